#!/usr/bin/env python3
# ferry-adapter-__NAME__: a Ferry source adapter, speaking the Ferry plugin protocol, version 1
# (docs/plugin-protocol.md in the Ferry repository).
#
# As generated, it serves raw disk images: option `path` is a raw image file (or a block
# device); the machine is named after the file (or option `hostname`) and has one disk,
# "disk0". It passes `ferry adapter test __NAME__ --option path=disk.img` as it is.
#
# To make it read your own format, look for the TODO comments:
#   - describe():         summary, version and the options your adapter takes;
#   - discover():         which machines and disks `options` point at, and their facts;
#   - DiskReader:         how a disk is opened, which ranges hold data, how bytes are read.
# The protocol code (JSON-RPC, errors, and the framing in ferry_framing.py) should not need changes.
#
# Python 3.8 or later, standard library only. stdout carries protocol messages only: log
# with log() (stderr); a stray print() is sent to stderr too, never to Ferry.

import errno
import json
import os
import stat
import sys
import traceback

# The message framing, in ferry_framing.py beside this file (written with it; copy both).
from ferry_framing import ProtocolError, read_message, write_message

NAME = "__NAME__"
VERSION = "0.1.0"  # TODO: your adapter's version
PROTOCOL_VERSION = 1

MAX_READ = 4 * 1024 * 1024

# Error codes (docs/plugin-protocol.md, "Errors").
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
NOT_FOUND = -32001
OUT_OF_BOUNDS = -32002
IO_ERROR = -32003
INVALID_OPTION = -32004
UNSUPPORTED = -32005
CORRUPT = -32006
UNSUPPORTED_PROTOCOL_VERSION = -32010


def log(*parts):
    """Logs to stderr: Ferry keeps the last 8 KiB and shows them when the plugin fails."""
    print(NAME + ":", *parts, file=sys.stderr, flush=True)


class RPCError(Exception):
    """An error answered to Ferry: `code` from the table above, `message` for people."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def invalid_option(option, message):
    return RPCError(INVALID_OPTION, message, {"option": option})


# ----------------------------------------------------------------------------------------
# Params


def param(params, name, kind, required=True):
    """The param `name` of type `kind` ("string", "int", "object", "list"); InvalidParams otherwise."""
    value = params.get(name)
    if value is None:
        if required:
            raise RPCError(INVALID_PARAMS, "missing param '%s'" % name)
        return None
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RPCError(INVALID_PARAMS, "param '%s' must be an integer" % name)
        return value
    expected = {"string": str, "object": dict, "list": list}[kind]
    if not isinstance(value, expected):
        raise RPCError(INVALID_PARAMS, "param '%s' must be a%s %s" % (name, "n" if kind == "object" else "", kind))
    return value


def options_of(params):
    options = param(params, "options", "object", required=False) or {}
    for key, value in options.items():
        if not isinstance(value, str):
            raise RPCError(INVALID_PARAMS, "option '%s' must be a string" % key)
    return options


# ----------------------------------------------------------------------------------------
# The source: raw disk images. TODO: replace with your own format and discovery.


def image_size(fd):
    """The size of an open image file or block device."""
    return os.lseek(fd, 0, os.SEEK_END)


def check_image(path, option="path"):
    """Opens `path` to check that it is a readable, non-empty image; returns its size."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise invalid_option(option, "%s does not exist" % path)
    except OSError as error:
        raise invalid_option(option, "cannot read %s: %s" % (path, error.strerror))
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        raise invalid_option(option, "%s is not a file or a block device" % path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise invalid_option(option, "cannot read %s: %s" % (path, error.strerror))
    try:
        size = image_size(fd)
    finally:
        os.close(fd)
    if size == 0:
        raise invalid_option(option, "%s is empty" % path)
    return size


def discover(options):
    """The machines `options` point at, as MachineFacts (docs/plugin-protocol.md, "Types")."""
    # TODO: find your machines here: one per image, per folder entry, per VM in an export...
    path = options.get("path")
    if not path:
        raise invalid_option("path", "option 'path' is required: a raw disk image")
    path = os.path.abspath(path)
    size = check_image(path)
    hostname = options.get("hostname") or os.path.splitext(os.path.basename(path))[0] or "machine"
    return [{
        "hostname": hostname,
        # TODO: fill in what your format knows: OS, CPUs, memory, NICs, boot mode.
        "operatingSystem": {"family": "unknown", "name": "", "version": ""},
        "cpuCount": 0,
        "memoryBytes": 0,
        "networkInterfaces": [],
        "disks": [{
            "name": "disk0",
            "sizeBytes": size,  # must be what source.openDisk reports for this disk
            "locator": path,  # whatever you need to find the disk again; opaque to Ferry
            "isBoot": True,
        }],
    }]


class DiskReader:
    """One open disk. TODO: for another format, map virtual offsets to your file's bytes here."""

    def __init__(self, name, locator):
        self.name = name
        self.locator = locator
        try:
            self.fd = os.open(locator, os.O_RDONLY)
        except FileNotFoundError:
            raise RPCError(NOT_FOUND, "disk %s: %s does not exist" % (name, locator), {"kind": "disk", "id": name})
        except OSError as error:
            raise RPCError(IO_ERROR, "disk %s: cannot open %s: %s" % (name, locator, error.strerror))
        self.size = image_size(self.fd)

    def allocated_ranges(self):
        """The ranges that may hold data, sorted and not overlapping; everything else reads as zeros."""
        seek_data = getattr(os, "SEEK_DATA", None)
        seek_hole = getattr(os, "SEEK_HOLE", None)
        whole = [{"offset": 0, "length": self.size}]
        if seek_data is None or seek_hole is None:
            return whole
        ranges = []
        offset = 0
        while offset < self.size:
            try:
                start = os.lseek(self.fd, offset, seek_data)
            except OSError as error:
                if error.errno == errno.ENXIO:  # no data after offset
                    break
                return whole  # the file system cannot tell (EINVAL, EOPNOTSUPP, ...)
            if start >= self.size:
                break
            try:
                end = os.lseek(self.fd, start, seek_hole)
            except OSError:
                return whole
            end = min(end, self.size)
            if end <= start:
                return whole
            ranges.append({"offset": start, "length": end - start})
            offset = end
        return ranges

    def read(self, offset, length):
        """Exactly `length` bytes at `offset` (the caller has checked the bounds)."""
        chunks = []
        done = 0
        while done < length:
            try:
                chunk = os.pread(self.fd, length - done, offset + done)
            except OSError as error:
                raise RPCError(IO_ERROR, "disk %s: read at %d failed: %s" % (self.name, offset + done, error.strerror))
            if not chunk:
                raise RPCError(IO_ERROR, "disk %s: %s ended at %d, before the disk's end (%d); did it shrink?"
                               % (self.name, self.locator, offset + done, self.size))
            chunks.append(chunk)
            done += len(chunk)
        return b"".join(chunks)

    def close(self):
        os.close(self.fd)


# ----------------------------------------------------------------------------------------
# Methods


class Adapter:
    def __init__(self):
        self.disks = {}  # handle -> DiskReader
        self.next_handle = 1

    def describe(self, params):
        offered = param(params, "protocolVersions", "list")
        if PROTOCOL_VERSION not in offered:
            raise RPCError(UNSUPPORTED_PROTOCOL_VERSION,
                           "this adapter speaks protocol version %d; Ferry offered %s" % (PROTOCOL_VERSION, offered),
                           {"supported": [PROTOCOL_VERSION]})
        return {
            "protocolVersion": PROTOCOL_VERSION,
            "name": NAME,
            "kind": "source",
            "version": VERSION,
            "summary": "Raw disk images",  # TODO: one line about your source
            "capabilities": ["discovery", "block-read"],
            # Ferry may run this many processes of the adapter at once to read in parallel.
            # TODO: set it to 1 if two processes must not run side by side (a lock, a session).
            "parallelProcesses": 4,
            # TODO: the options your adapter takes (type: string, integer, boolean, path, choice).
            "options": [
                {"name": "path", "type": "path", "required": True, "help": "a raw disk image"},
                {"name": "hostname", "type": "string",
                 "help": "the machine's name (default: the image's file name without its extension)"},
            ],
        }

    def source_discover(self, params):
        return {"machines": discover(options_of(params))}

    def source_open_disk(self, params):
        options_of(params)  # TODO: use the options if opening a disk needs them (credentials...)
        disk = param(params, "disk", "object")
        name = param(disk, "name", "string")
        locator = param(disk, "locator", "string")
        reader = DiskReader(name, locator)
        handle = "h%d" % self.next_handle
        self.next_handle += 1
        self.disks[handle] = reader
        return {"handle": handle, "sizeBytes": reader.size}

    def disk(self, params):
        handle = param(params, "handle", "string")
        reader = self.disks.get(handle)
        if reader is None:
            raise RPCError(NOT_FOUND, "no open disk with handle '%s'" % handle, {"kind": "handle", "id": handle})
        return handle, reader

    def source_allocated_ranges(self, params):
        _, reader = self.disk(params)
        return {"ranges": reader.allocated_ranges()}

    def source_read(self, params):
        _, reader = self.disk(params)
        offset = param(params, "offset", "int")
        length = param(params, "length", "int")
        if offset < 0:
            raise RPCError(INVALID_PARAMS, "offset must not be negative, not %d" % offset)
        if length < 1 or length > MAX_READ:
            raise RPCError(INVALID_PARAMS, "length must be between 1 and %d, not %d" % (MAX_READ, length))
        if offset + length > reader.size:
            raise RPCError(OUT_OF_BOUNDS, "disk %s: a read of %d bytes at %d reaches past its end (%d bytes)"
                           % (reader.name, length, offset, reader.size),
                           {"offset": offset, "length": length, "sizeBytes": reader.size})
        data = reader.read(offset, length)
        return {"length": len(data)}, data

    def source_close_disk(self, params):
        handle, reader = self.disk(params)
        del self.disks[handle]
        reader.close()
        return {}

    # TODO: with "change-tracking" in capabilities, add "source.changeStamp" here: a string
    # that changes whenever the disk may have changed (size and modification time, say).

    def shutdown(self, params):
        return {}

    def close_all(self):
        for reader in self.disks.values():
            try:
                reader.close()
            except OSError:
                pass
        self.disks.clear()

    METHODS = {
        "describe": describe,
        "source.discover": source_discover,
        "source.openDisk": source_open_disk,
        "source.allocatedRanges": source_allocated_ranges,
        "source.read": source_read,
        "source.closeDisk": source_close_disk,
        "shutdown": shutdown,
    }


# ----------------------------------------------------------------------------------------
# JSON-RPC (docs/plugin-protocol.md); the framing is in ferry_framing.py. Nothing to change here.


def error_response(request_id, code, message, data=None):
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def handle(adapter, body):
    """(response, binary, stop) for one request body; response is None for a notification."""
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return error_response(None, PARSE_ERROR, "the request is not valid JSON: %s" % error), b"", False
    if not isinstance(request, dict):
        return error_response(None, INVALID_REQUEST, "the request is not a JSON object"), b"", False
    request_id = request.get("id")
    if "id" not in request:
        log("ignoring a notification:", request.get("method"))
        return None, b"", False
    method = request.get("method")
    params = request.get("params", {})
    if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
        return error_response(request_id, INVALID_REQUEST, "not a JSON-RPC 2.0 request"), b"", False
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return error_response(request_id, INVALID_PARAMS, "params must be an object"), b"", False
    function = Adapter.METHODS.get(method)
    if function is None:
        return error_response(request_id, METHOD_NOT_FOUND, "no method '%s'" % method), b"", False
    binary = b""
    try:
        result = function(adapter, params)
        if isinstance(result, tuple):
            result, binary = result
    except RPCError as error:
        return error_response(request_id, error.code, error.message, error.data), b"", False
    except Exception as error:  # anything unexpected: answer it and carry on
        log("%s failed:\n%s" % (method, traceback.format_exc()))
        return error_response(request_id, INTERNAL_ERROR, "%s: %s" % (type(error).__name__, error)), b"", False
    return {"jsonrpc": "2.0", "id": request_id, "result": result}, binary, method == "shutdown"


def main():
    # Protocol messages go to a private copy of stdout; stdout itself becomes stderr, so a
    # stray print() (or a library writing to fd 1) cannot corrupt the protocol.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    stream = sys.stdin.buffer
    adapter = Adapter()
    try:
        while True:
            try:
                message = read_message(stream)
            except ProtocolError as error:
                log("protocol error:", error)
                return 1
            if message is None:
                return 0  # stdin closed: Ferry is done with us
            response, binary, stop = handle(adapter, message[0])
            if response is not None:
                write_message(out, response, binary)
            if stop:
                return 0
    except BrokenPipeError:
        return 0
    finally:
        adapter.close_all()


if __name__ == "__main__":
    sys.exit(main())
