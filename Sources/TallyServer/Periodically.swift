import ServiceLifecycle

/// The loop every background service of the server runs: wait `interval`,
/// do the work, until graceful shutdown (or cancellation) ends the wait.
func periodically(every interval: Duration, _ work: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                break
            }
            await work()
        }
    }
}
