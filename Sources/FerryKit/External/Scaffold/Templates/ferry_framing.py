# ferry_framing: the message framing of the Ferry plugin protocol, version 1
# (docs/plugin-protocol.md in the Ferry repository, "Framing").
#
# Every message, both ways, is a header block and a body:
#
#   Content-Length: 49\r\n          required: bytes of JSON text, UTF-8, at most 16 MiB
#   Binary-Length: 4096\r\n         optional, default 0: raw bytes after the JSON, at most 16 MiB
#   \r\n                            an empty line ends the block (at most 1024 bytes)
#   {"jsonrpc":"2.0",...}<raw bytes>
#
# Header names are case-insensitive; unknown headers are ignored. `ferry adapter new` writes
# this file beside a Python plugin, which imports it; keep the two together when you copy
# the plugin. Python 3.8 or later, standard library only.

import json

MAX_HEADER_BLOCK = 1024
MAX_JSON = 16 * 1024 * 1024
MAX_BINARY = 16 * 1024 * 1024


class ProtocolError(Exception):
    """The byte stream cannot be understood; the plugin cannot go on."""


def read_message(stream):
    """(json bytes, binary bytes) of the next message on the binary `stream`, or None when
    it ends between messages. Raises ProtocolError on anything the framing forbids."""
    headers = {}
    block = 0
    first = True
    while True:
        line = stream.readline(MAX_HEADER_BLOCK + 1)
        if not line:
            if first:
                return None
            raise ProtocolError("the input ended inside a header block")
        first = False
        block += len(line)
        if block > MAX_HEADER_BLOCK:
            raise ProtocolError("header block longer than %d bytes" % MAX_HEADER_BLOCK)
        if not line.endswith(b"\n"):
            raise ProtocolError("the input ended inside a header line")
        line = line.rstrip(b"\r\n")
        if not line:
            break
        name, colon, value = line.partition(b":")
        if not colon:
            raise ProtocolError("bad header line %r" % line[:80])
        headers[name.strip().lower().decode("ascii", "replace")] = value.strip().decode("ascii", "replace")

    def length(header, limit, required):
        text = headers.get(header)
        if text is None:
            if required:
                raise ProtocolError("no %s header" % header)
            return 0
        if not text.isdigit() or int(text) > limit:
            raise ProtocolError("bad %s: %r" % (header, text))
        return int(text)

    json_length = length("content-length", MAX_JSON, True)
    binary_length = length("binary-length", MAX_BINARY, False)
    body = stream.read(json_length)
    binary = stream.read(binary_length) if binary_length else b""
    if len(body) != json_length or len(binary) != binary_length:
        raise ProtocolError("the input ended inside a message")
    return body, binary


def write_message(out, message, binary=b""):
    """Writes `message` (a JSON-RPC object) and, when given, its binary part to the binary
    stream `out`, and flushes: Ferry waits for the whole message."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header = "Content-Length: %d\r\n" % len(body)
    if binary:
        header += "Binary-Length: %d\r\n" % len(binary)
    out.write(header.encode("ascii") + b"\r\n" + body)
    if binary:
        out.write(binary)
    out.flush()
