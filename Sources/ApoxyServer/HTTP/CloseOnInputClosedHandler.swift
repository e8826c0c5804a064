import NIOCore

/// Closes a connection once its client has closed its side, as Go's net/http cancels a request whose client went
/// away. Without it a watch whose selector matches nothing would never write, never fail, and live forever.
final class CloseOnInputClosedHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
