# Shared by tools/*: install what a fresh Debian machine with only the Swift
# toolchain lacks. Uses sudo only when not root.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# LMDB's headers and pkg-config file (the CLMDB system library target needs them).
ensure_lmdb() {
    if ! pkg-config --exists lmdb 2>/dev/null; then
        echo "tools: installing liblmdb-dev" >&2
        apt_install liblmdb-dev pkg-config
    fi
}

# A command from a Debian package, installed when missing.
ensure_command() {
    local command="$1" package="$2"
    if ! command -v "$command" >/dev/null 2>&1; then
        echo "tools: installing $package" >&2
        apt_install "$package"
    fi
}

# A Python virtual environment under the build folder with the given PyPI packages.
ensure_venv() {
    local venv="$1"; shift
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "$@"
}
