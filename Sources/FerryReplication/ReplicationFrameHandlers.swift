import NIOCore

/// Splits the byte stream into replication frames. Until it has seen an `authenticate`
/// frame it accepts only tiny frames, so that an unauthenticated peer cannot make the
/// server buffer a large one. Once the handshake is over on its side (the server has read
/// `authenticate`, the agent `welcome`), every frame must carry a valid seal; a frame that
/// arrives before the keys are set is refused too, since an honest peer waits for them.
package final class ReplicationFrameDecoder: ByteToMessageDecoder {
    package typealias InboundOut = ReplicationFrame

    private var limit: Int
    private let seal: ReplicationFrameSeal
    private let role: ReplicationFrameSeal.Role
    private var handshakeDone = false

    package init(role: ReplicationFrameSeal.Role, seal: ReplicationFrameSeal) {
        self.role = role
        self.seal = seal
        limit = role == .agent ? ReplicationProtocol.maximumFrameLength : ReplicationProtocol.maximumUnauthenticatedFrameLength
    }

    package func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length >= 1 else { throw ReplicationProtocolError.malformed("empty frame") }
        guard Int(length) <= limit else { throw ReplicationProtocolError.frameTooLarge(length: Int(length), limit: limit) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let body = buffer.readSlice(length: Int(length))!
        let frame = try ReplicationFrameCodec.decode(body: handshakeDone ? try seal.open(body) : body)
        switch (role, frame) {
        case (.server, .authenticate):
            limit = ReplicationProtocol.maximumFrameLength
            handshakeDone = true
        case (.agent, .welcome):
            handshakeDone = true
        default:
            break
        }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    package func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Writes frames: the head (length, type, payload), then a block's data as the buffer it
/// already is, then the seal once it is active (but on the `welcome` that activates it on
/// the agent's side). Three writes, one flush by the caller: no copy of the block.
package final class ReplicationFrameEncoder: ChannelOutboundHandler {
    package typealias OutboundIn = ReplicationFrame
    package typealias OutboundOut = ByteBuffer

    private let seal: ReplicationFrameSeal

    package init(seal: ReplicationFrameSeal) {
        self.seal = seal
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        let sealed: Bool = if case .welcome = frame { false } else { seal.isActive }
        var head = context.channel.allocator.buffer(capacity: 64)
        let tail = ReplicationFrameCodec.writeHead(frame, into: &head, extraLength: sealed ? ReplicationFrameSeal.tagLength : 0)
        let body = head.getSlice(at: head.readerIndex + 4, length: head.readableBytes - 4)!
        let tag = sealed ? (tail.map { seal.nextTag(over: body, $0) } ?? seal.nextTag(over: body)) : nil
        guard tail != nil || tag != nil else {
            context.write(wrapOutboundOut(head), promise: promise)
            return
        }
        context.write(wrapOutboundOut(head), promise: nil)
        if let tail { context.write(wrapOutboundOut(tail), promise: tag == nil ? promise : nil) }
        if let tag { context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: tag)), promise: promise) }
    }
}

/// A channel that speaks the replication protocol: its codec handlers share one seal.
package enum ReplicationChannel {
    package static func configure(_ channel: any Channel, role: ReplicationFrameSeal.Role, seal: ReplicationFrameSeal) throws -> NIOAsyncChannel<ReplicationFrame, ReplicationFrame> {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ReplicationFrameDecoder(role: role, seal: seal)))
        try channel.pipeline.syncOperations.addHandler(ReplicationFrameEncoder(seal: seal))
        return try NIOAsyncChannel<ReplicationFrame, ReplicationFrame>(wrappingChannelSynchronously: channel)
    }
}
