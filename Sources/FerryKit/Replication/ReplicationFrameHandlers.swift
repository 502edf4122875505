import FerryCore
import NIOCore

/// Splits the byte stream into replication frames. Until it has seen an `authenticate`
/// frame it accepts only tiny frames, so that an unauthenticated peer cannot make the
/// server buffer a large one. Once the handshake is over on its side (the server has read
/// `authenticate`, the agent `welcome`), every frame must carry a valid seal; a frame that
/// arrives before the keys are set is refused too, since an honest peer waits for them.
final class ReplicationFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ReplicationFrame

    private var limit: Int
    private let seal: ReplicationFrameSeal
    private let role: ReplicationFrameSeal.Role
    private var handshakeDone = false

    init(role: ReplicationFrameSeal.Role, seal: ReplicationFrameSeal) {
        self.role = role
        self.seal = seal
        limit = role == .agent ? ReplicationProtocol.maximumFrameLength : ReplicationProtocol.maximumUnauthenticatedFrameLength
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length >= 1 else { throw ReplicationProtocolError.malformed("empty frame") }
        guard Int(length) <= limit else { throw ReplicationProtocolError.frameTooLarge(length: Int(length), limit: limit) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let bytes = buffer.readBytes(length: Int(length))!
        let frame = try ReplicationFrameCodec.decode(body: handshakeDone ? try seal.open(bytes[...]) : bytes[...])
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

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Encodes frames, sealed once the seal is active (but the `welcome` that activates it on
/// the agent's side).
final class ReplicationFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ReplicationFrame

    private let seal: ReplicationFrameSeal

    init(seal: ReplicationFrameSeal) {
        self.seal = seal
    }

    func encode(data: ReplicationFrame, out: inout ByteBuffer) throws {
        var bytes = ReplicationFrameCodec.encode(data)
        if case .welcome = data {} else { seal.seal(&bytes) }
        out.writeBytes(bytes)
    }
}

/// A channel that speaks the replication protocol: its codec handlers share one seal.
enum ReplicationChannel {
    static func configure(_ channel: any Channel, role: ReplicationFrameSeal.Role, seal: ReplicationFrameSeal) throws -> NIOAsyncChannel<ReplicationFrame, ReplicationFrame> {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ReplicationFrameDecoder(role: role, seal: seal)))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(ReplicationFrameEncoder(seal: seal)))
        return try NIOAsyncChannel<ReplicationFrame, ReplicationFrame>(wrappingChannelSynchronously: channel)
    }
}
