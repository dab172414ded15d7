import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The dashboard's static files, read once from the package resources into
/// memory (they are small) and served by exact path: there is no file-system
/// lookup per request, so no path can escape the folder.
///
/// Every file carries `Content-Security-Policy: default-src 'self'` (no
/// inline script, no third-party origin), `X-Content-Type-Options: nosniff`
/// and `X-Frame-Options: DENY` (no clickjacking of the sign-in form).
struct DashboardFiles: Sendable {
    struct File: Sendable {
        var bytes: ByteBuffer
        var contentType: String
    }

    let files: [String: File]

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "json": "application/json", "txt": "text/plain; charset=utf-8",
    ]

    static func load(logger: Logger) -> DashboardFiles {
        guard let root = Bundle.module.url(forResource: "Dashboard", withExtension: nil) else {
            logger.error("the dashboard resources are missing from the build")
            return DashboardFiles(files: [:])
        }
        var files: [String: File] = [:]
        let base = root.standardizedFileURL.path
        if let walker = FileManager.default.enumerator(atPath: base) {
            while let relative = walker.nextObject() as? String {
                let full = base + "/" + relative
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                    let data = FileManager.default.contents(atPath: full)
                else { continue }
                let ext = relative.split(separator: ".").last.map(String.init) ?? ""
                guard let type = contentTypes[ext] else { continue }
                files["/" + relative] = File(bytes: ByteBuffer(bytes: Array(data)), contentType: type)
            }
        }
        return DashboardFiles(files: files)
    }

    func register<Context: RequestContext>(on router: Router<Context>) {
        for (path, file) in files {
            let response = DashboardFiles.response(file)
            router.get(RouterPath(path)) { _, _ in response }
            if path == "/index.html" { router.get("/") { _, _ in response } }
        }
    }

    static func response(_ file: File) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: file.contentType,
                .contentSecurityPolicy: "default-src 'self'",
                .xContentTypeOptions: "nosniff",
                HTTPField.Name("X-Frame-Options")!: "DENY",
                HTTPField.Name("Referrer-Policy")!: "same-origin",
                // Revalidate each load so a deploy is seen at once; the files are tiny.
                .cacheControl: "no-cache",
            ], body: ResponseBody(byteBuffer: file.bytes))
    }
}
