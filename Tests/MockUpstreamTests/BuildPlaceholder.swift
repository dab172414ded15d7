// Keeps the MockUpstreamTests target buildable until its real tests land (relay branch).
import MockUpstream
