/// The binary layout of the prices and usage counts issue 11 added, defined
/// once. Each list is a presence mask and the values present, so an event
/// that uses none of them grows by one byte per list:
/// - the first parts (cache writes, audio, web searches): `price.set` version 3
///   ends with the price parts, `charge.settled` version 2 with the usage parts
///   and then the price parts;
/// - the second parts (web fetches, file searches, images): `price.set`
///   version 4 and `charge.settled` version 4 append them the same way.

extension Price {
    /// cache_write, cache_write_1h, audio_input, audio_output, per_web_search, in mask-bit order.
    func encodeParts(into w: inout BinaryWriter) {
        w.maskedSigned([cacheWrite, cacheWrite1h, audioInput, audioOutput, perWebSearch])
    }

    mutating func decodeParts(from r: inout BinaryReader) throws(BinaryDecodingError) {
        let mask = try r.presenceMask(count: 5)
        cacheWrite = try r.signed(ifIn: mask, bit: 0)
        cacheWrite1h = try r.signed(ifIn: mask, bit: 1)
        audioInput = try r.signed(ifIn: mask, bit: 2)
        audioOutput = try r.signed(ifIn: mask, bit: 3)
        perWebSearch = try r.signed(ifIn: mask, bit: 4)
    }

    /// per_web_fetch, per_file_search, image_input, image_output, in mask-bit order.
    func encodeSecondParts(into w: inout BinaryWriter) {
        w.maskedSigned([perWebFetch, perFileSearch, imageInput, imageOutput])
    }

    mutating func decodeSecondParts(from r: inout BinaryReader) throws(BinaryDecodingError) {
        let mask = try r.presenceMask(count: 4)
        perWebFetch = try r.signed(ifIn: mask, bit: 0)
        perFileSearch = try r.signed(ifIn: mask, bit: 1)
        imageInput = try r.signed(ifIn: mask, bit: 2)
        imageOutput = try r.signed(ifIn: mask, bit: 3)
    }
}

extension Usage {
    /// Cache-write 5m and 1h, audio input and output tokens, web searches, in
    /// mask-bit order; a zero count is absent.
    func encodeParts(into w: inout BinaryWriter) {
        let parts = [cacheWriteTokens, cacheWrite1hTokens, audioInputTokens, audioOutputTokens, webSearchRequests]
        w.maskedSigned(parts.map { $0 == 0 ? nil : $0 })
    }

    mutating func decodeParts(from r: inout BinaryReader) throws(BinaryDecodingError) {
        let mask = try r.presenceMask(count: 5)
        cacheWriteTokens = try r.signed(ifIn: mask, bit: 0) ?? 0
        cacheWrite1hTokens = try r.signed(ifIn: mask, bit: 1) ?? 0
        audioInputTokens = try r.signed(ifIn: mask, bit: 2) ?? 0
        audioOutputTokens = try r.signed(ifIn: mask, bit: 3) ?? 0
        webSearchRequests = try r.signed(ifIn: mask, bit: 4) ?? 0
    }

    /// Web fetches, file searches, image input and output tokens, in mask-bit order; a zero count is absent.
    func encodeSecondParts(into w: inout BinaryWriter) {
        let parts = [webFetchRequests, fileSearchCalls, imageInputTokens, imageOutputTokens]
        w.maskedSigned(parts.map { $0 == 0 ? nil : $0 })
    }

    mutating func decodeSecondParts(from r: inout BinaryReader) throws(BinaryDecodingError) {
        let mask = try r.presenceMask(count: 4)
        webFetchRequests = try r.signed(ifIn: mask, bit: 0) ?? 0
        fileSearchCalls = try r.signed(ifIn: mask, bit: 1) ?? 0
        imageInputTokens = try r.signed(ifIn: mask, bit: 2) ?? 0
        imageOutputTokens = try r.signed(ifIn: mask, bit: 3) ?? 0
    }
}
