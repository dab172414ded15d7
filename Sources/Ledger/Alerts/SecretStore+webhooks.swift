import Crypto
import LMDB

/// Webhook signing secrets: like channel keys, Tally must read them back (to
/// sign each delivery), so they are sealed with AES-GCM under the master key,
/// outside the log; the API shows one only in the answer that created it.
extension SecretStore {
    static let webhookKind: UInt8 = 4

    func sealWrite(webhook: WebhookID, secret plain: String) throws -> StoreWrite {
        guard let masterKey else { throw SecretStoreError.noMasterKey }
        let key = SecretStore.key(SecretStore.webhookKind, webhook.raw)
        let box = try AES.GCM.seal(Array(plain.utf8), using: masterKey, authenticating: key)
        guard let combined = box.combined else { throw SecretStoreError.sealFailed }
        return .put(store.secrets, key: key, value: Array(combined), options: [])
    }

    func deleteWrite(webhook: WebhookID) -> StoreWrite { .delete(store.secrets, key: SecretStore.key(SecretStore.webhookKind, webhook.raw)) }

    /// The endpoint's signing secret, or nil when none is stored.
    func open(webhook: WebhookID) throws -> String? {
        guard let masterKey else { throw SecretStoreError.noMasterKey }
        let key = SecretStore.key(SecretStore.webhookKind, webhook.raw)
        guard let sealed = try store.environment.read({ txn in try txn.get(store.secrets, key: key) }) else { return nil }
        let plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: masterKey, authenticating: key)
        return String(decoding: plain, as: UTF8.self)
    }
}
