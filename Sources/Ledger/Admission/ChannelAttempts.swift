/// The channels admission chose for one request, in the order to try them:
/// positions in the serving list they were picked from, so choosing them
/// copies no definition (each is strings and maps: a retain and release per
/// field); the relay reads a definition only when it tries that channel.
package struct ChannelAttempts: RandomAccessCollection, Sendable {
    let list: ServingList
    let order: [Int]

    package var startIndex: Int { 0 }
    package var endIndex: Int { order.count }
    package subscript(position: Int) -> ChannelDefinition { list.channels[order[position]] }
}
