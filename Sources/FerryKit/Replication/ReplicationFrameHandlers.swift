import NIOCore

/// Splits the byte stream into replication frames. Until it has seen an `authenticate`
/// frame it accepts only tiny frames, so that an unauthenticated peer cannot make the
/// server buffer a large one.
final class ReplicationFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ReplicationFrame

    private var limit: Int

    init(authenticated: Bool) {
        limit = authenticated ? ReplicationProtocol.maximumFrameLength : ReplicationProtocol.maximumUnauthenticatedFrameLength
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= limit else { throw ReplicationProtocolError.frameTooLarge(length: Int(length), limit: limit) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        let bytes = buffer.readBytes(length: 4 + Int(length))!
        guard let (frame, _) = try ReplicationFrameCodec.decode(bytes[...], maximumLength: limit) else {
            throw ReplicationProtocolError.malformed("incomplete frame")
        }
        if case .authenticate = frame { limit = ReplicationProtocol.maximumFrameLength }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

final class ReplicationFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ReplicationFrame

    func encode(data: ReplicationFrame, out: inout ByteBuffer) throws {
        out.writeBytes(ReplicationFrameCodec.encode(data))
    }
}
