import Hummingbird

/// The page at `/`: one HTML file with its CSS and JavaScript inside (no outside assets, so it works offline), built
/// into the binary from `Page/index.html` by `scripts/embed_page.py` (`PageAssets.swift`); no path from a request is
/// ever opened.
enum Page {
    static var index: String { PageAssets.indexHTML }

    static func response(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
