"""Drives Tally with the official SDKs, each pointed at Tally with a Tally token.

Prints one line per check and a final "N passed, M failed"; exits 1 on any failure.
"""
import json
import os
import sys
import traceback
import urllib.request

URL = os.environ["TALLY_URL"]
TOKEN = os.environ["TALLY_TOKEN"]
results = []


def used():
    """The token's used credits, from Tally's self-service route."""
    request = urllib.request.Request(URL + "/api/usage/token", headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["used"]


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"PASS {name}")
        except Exception as error:  # noqa: BLE001 - report every failure
            results.append((name, error))
            print(f"FAIL {name}: {error!r}")
            traceback.print_exc(file=sys.stderr)
        return fn
    return wrap


import openai  # noqa: E402

oa = openai.OpenAI(base_url=URL + "/v1", api_key=TOKEN, max_retries=0)


@check("openai chat")
def _():
    r = oa.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "hello there"}], max_tokens=5)
    assert r.choices[0].message.content, r
    assert r.usage.prompt_tokens == 2 and r.usage.completion_tokens == 5, r.usage


@check("openai chat stream")
def _():
    text = ""
    for chunk in oa.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "hi"}], stream=True):
        assert chunk.usage is None, "the usage chunk Tally asked for must not reach the client"
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    assert text, "no text streamed"


# The demo's `mock-azure-gpt` is served by an `azure` channel: the mock speaks
# Azure's deployment paths, `api-version` and `api-key` header, and streams
# Azure's leading prompt-filter chunk. 2 prompt + 5 output tokens at 2,000,000 /
# 8,000,000 credits per million = 44 credits.
@check("openai chat via an azure channel")
def _():
    before = used()
    r = oa.chat.completions.create(model="mock-azure-gpt", messages=[{"role": "user", "content": "hello there"}], max_tokens=5)
    assert r.choices[0].message.content, r
    assert r.usage.prompt_tokens == 2 and r.usage.completion_tokens == 5, r.usage
    assert used() - before == 44, (before, used())


@check("openai chat stream via an azure channel")
def _():
    before = used()
    text = ""
    for chunk in oa.chat.completions.create(
            model="mock-azure-gpt", messages=[{"role": "user", "content": "hello there"}], max_tokens=5, stream=True):
        assert chunk.usage is None, "the usage chunk Tally asked for must not reach the client"
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    assert len(text.split()) == 5, text
    assert used() - before == 44, (before, used())


@check("openai chat stream via an azure channel, usage asked by the client")
def _():
    usage = None
    for chunk in oa.chat.completions.create(
            model="mock-azure-gpt", messages=[{"role": "user", "content": "hello there"}], max_tokens=5, stream=True,
            stream_options={"include_usage": True}):
        usage = chunk.usage or usage
    assert usage and usage.prompt_tokens == 2 and usage.completion_tokens == 5, usage


@check("openai responses via an azure channel")
def _():
    r = oa.responses.create(model="mock-azure-gpt", input="hello there", max_output_tokens=5)
    assert r.output_text, r
    assert r.usage.input_tokens == 2, r.usage


# Server tools, charged per call at the demo's prices (credits per call: a
# Responses web search 25,000, a file search 2,500) on top of the tokens
# (2 prompt + 5 output at 2,000,000 / 8,000,000 per million = 44 credits).
# `max_tool_calls` caps the calls; the mock runs one per offered tool.
def tool_calls(response, kind):
    return [item for item in response.output if item.type == kind]


@check("openai responses web search within max_tool_calls is charged per search")
def _():
    before = used()
    r = oa.responses.create(
        model="mock-gpt", input="hello there", max_output_tokens=5, tools=[{"type": "web_search_preview"}], max_tool_calls=1)
    assert len(tool_calls(r, "web_search_call")) == 1, r.output
    assert r.usage.input_tokens == 2 and r.usage.output_tokens == 5, r.usage
    assert used() - before == 44 + 25_000, (before, used())


@check("openai responses file search is charged per call")
def _():
    before = used()
    r = oa.responses.create(
        model="mock-gpt", input="hello there", max_output_tokens=5, tools=[{"type": "file_search", "vector_store_ids": ["vs_demo"]}])
    assert len(tool_calls(r, "file_search_call")) == 1, r.output
    assert used() - before == 44 + 2_500, (before, used())


@check("openai rejects a bad key")
def _():
    bad = openai.OpenAI(base_url=URL + "/v1", api_key="sk-" + "x" * 45, max_retries=0)
    try:
        bad.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "hi"}])
    except openai.AuthenticationError:
        return
    raise AssertionError("expected AuthenticationError")


@check("openai models")
def _():
    ids = [m.id for m in oa.models.list()]
    assert "mock-gpt" in ids, ids


import anthropic  # noqa: E402

an = anthropic.Anthropic(base_url=URL, api_key=TOKEN, max_retries=0)


@check("anthropic messages")
def _():
    r = an.messages.create(model="mock-claude", max_tokens=4, messages=[{"role": "user", "content": "hello there"}])
    assert r.content[0].text, r
    assert r.usage.output_tokens == 4, r.usage


@check("anthropic messages stream")
def _():
    with an.messages.stream(model="mock-claude", max_tokens=4, messages=[{"role": "user", "content": "hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text, "no text streamed"
    assert final.usage.output_tokens == 4, final.usage


# Prompt caching: the mock writes the 8 words of the marked system block to the
# 5-minute cache. At the demo's mock-claude prices (credits per million tokens:
# input 3,000,000, cache write 3,750,000, output 15,000,000) the charge is
# 2 × 3 + 8 × 3.75 + 4 × 15 = 96 credits, not the 90 of cache writes at the input price.
CACHED_SYSTEM = [{"type": "text", "text": "a b c d e f g h", "cache_control": {"type": "ephemeral"}}]


@check("anthropic prompt caching is charged at the cache-write price")
def _():
    before = used()
    r = an.messages.create(
        model="mock-claude", max_tokens=4, system=CACHED_SYSTEM, messages=[{"role": "user", "content": "hello there"}])
    assert r.usage.cache_creation_input_tokens == 8 and r.usage.input_tokens == 2, r.usage
    assert used() - before == 96, (before, used())


@check("anthropic prompt caching stream is charged at the cache-write price")
def _():
    before = used()
    with an.messages.stream(
            model="mock-claude", max_tokens=4, system=CACHED_SYSTEM, messages=[{"role": "user", "content": "hello there"}]) as stream:
        final = stream.get_final_message()
    assert final.usage.cache_creation_input_tokens == 8, final.usage
    assert used() - before == 96, (before, used())


# Anthropic server tools (`usage.server_tool_use`), at the demo's mock-claude
# prices: a web search 10,000 credits, a web fetch 5,000, on top of the tokens
# (2 prompt + 4 output at 3,000,000 / 15,000,000 per million = 66 credits).
# `mock-claude-search-greedy` runs as many searches as the cap allows: the
# caller's `max_uses`, or the 5 Tally writes when it sends none (and reserves for).
def server_tool_use(usage, field):
    tools = usage.server_tool_use
    value = getattr(tools, field, None)
    return value if value is not None else (tools.model_extra or {}).get(field)


WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search"}


@check("anthropic web search within max_uses is charged per search")
def _():
    before = used()
    r = an.messages.create(
        model="mock-claude-search-greedy", max_tokens=4, tools=[{**WEB_SEARCH, "max_uses": 3}],
        messages=[{"role": "user", "content": "hello there"}])
    assert server_tool_use(r.usage, "web_search_requests") == 3, r.usage
    assert used() - before == 66 + 3 * 10_000, (before, used())


@check("anthropic web search without max_uses is capped by Tally")
def _():
    before = used()
    with an.messages.stream(
            model="mock-claude-search-greedy", max_tokens=4, tools=[WEB_SEARCH],
            messages=[{"role": "user", "content": "hello there"}]) as stream:
        final = stream.get_final_message()
    assert server_tool_use(final.usage, "web_search_requests") == 5, final.usage
    assert used() - before == 66 + 5 * 10_000, (before, used())


@check("anthropic web fetch is charged per fetch")
def _():
    before = used()
    r = an.messages.create(
        model="mock-claude", max_tokens=4, tools=[{"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 2}],
        messages=[{"role": "user", "content": "hello there"}])
    assert server_tool_use(r.usage, "web_fetch_requests") == 1, r.usage
    assert used() - before == 66 + 5_000, (before, used())


from google import genai  # noqa: E402
from google.genai import types  # noqa: E402

gm = genai.Client(api_key=TOKEN, http_options=types.HttpOptions(base_url=URL))


@check("gemini generateContent")
def _():
    r = gm.models.generate_content(model="mock-gemini", contents="hello there")
    assert r.text, r
    assert r.usage_metadata.prompt_token_count == 2, r.usage_metadata


@check("gemini streamGenerateContent")
def _():
    text = ""
    for chunk in gm.models.generate_content_stream(model="mock-gemini", contents="hi"):
        text += chunk.text or ""
    assert text, "no text streamed"


# Image tokens (`promptTokensDetails` / `candidatesTokensDetails` by modality),
# at the demo's mock-gemini prices per million tokens: text input 1,000,000,
# image input 2,000,000, output 4,000,000, image output 30,000,000. The mock
# counts 258 tokens per inline image, as Gemini does for a small one.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def modality_tokens(details, modality):
    return sum(d.token_count for d in details or [] if str(d.modality).upper().endswith(modality))


@check("gemini image input tokens are charged at the image price")
def _():
    before = used()
    r = gm.models.generate_content(
        model="mock-gemini", contents=[types.Part.from_bytes(data=PNG, mime_type="image/png"), "hello there"],
        config=types.GenerateContentConfig(max_output_tokens=5))
    meta = r.usage_metadata
    assert modality_tokens(meta.prompt_tokens_details, "IMAGE") == 258 and meta.prompt_token_count == 260, meta
    assert used() - before == 2 + 258 * 2 + meta.candidates_token_count * 4, (before, used(), meta)


@check("gemini image output tokens are charged at the image output price")
def _():
    before = used()
    r = gm.models.generate_content(
        model="mock-gemini", contents="hello there",
        config=types.GenerateContentConfig(max_output_tokens=5, response_modalities=["IMAGE"]))
    meta = r.usage_metadata
    assert modality_tokens(meta.candidates_tokens_details, "IMAGE") == meta.candidates_token_count > 0, meta
    assert used() - before == 2 + meta.candidates_token_count * 30, (before, used(), meta)


# A token-priced image model (`gpt-image-1`'s usage object) at the demo's
# mock-gpt-image prices per million tokens: text input 5,000,000, image input
# 10,000,000, output 40,000,000. The mock reports 272 output tokens per
# low-quality image, as OpenAI does for 1024x1024.
@check("openai image generation tokens are charged from its usage")
def _():
    before = used()
    r = oa.images.generate(model="mock-gpt-image", prompt="a red square on white", n=2, quality="low", size="1024x1024")
    assert len(r.data) == 2, r
    assert r.usage.input_tokens == 5 and r.usage.output_tokens == 2 * 272, r.usage
    assert used() - before == 5 * 5 + 2 * 272 * 40, (before, used(), r.usage)


failed = sum(1 for _, error in results if error)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
