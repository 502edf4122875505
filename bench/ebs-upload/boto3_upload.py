#!/usr/bin/env python3
"""The peer in the EBS upload benchmark: a plain boto3 uploader of a raw image.

It does what Ferry's import does, the way a boto3 user would write it: StartSnapshot,
PutSnapshotBlock for every 512 KiB block that is not all zeros (base64 SHA-256 checksum,
a thread pool of the same size as Ferry's concurrency), then CompleteSnapshot with the
changed block count and the LINEAR aggregated checksum. Endpoint and credentials come
from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...), as for Ferry.

Prints one JSON line: snapshot id, blocks sent, seconds.
"""
import argparse
import base64
import hashlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

BLOCK = 512 * 1024
ZERO = bytes(BLOCK)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    ebs = boto3.client("ebs", config=Config(max_pool_connections=args.concurrency * 2, retries={"mode": "standard"}))
    size = os.path.getsize(args.image)
    started = time.monotonic()
    snapshot = ebs.start_snapshot(VolumeSize=max(1, -(-size // (1 << 30))), Description="boto3 bench")["SnapshotId"]

    def put(index):
        with open(args.image, "rb") as f:
            f.seek(index * BLOCK)
            data = f.read(BLOCK).ljust(BLOCK, b"\0")
        if data == ZERO:
            return index, None
        digest = hashlib.sha256(data).digest()
        ebs.put_snapshot_block(
            SnapshotId=snapshot, BlockIndex=index, BlockData=data, DataLength=BLOCK,
            Checksum=base64.b64encode(digest).decode(), ChecksumAlgorithm="SHA256",
        )
        return index, digest

    blocks = -(-size // BLOCK)
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        digests = sorted((i, d) for i, d in pool.map(put, range(blocks)) if d is not None)
    aggregate = base64.b64encode(hashlib.sha256(b"".join(d for _, d in digests)).digest()).decode()
    ebs.complete_snapshot(
        SnapshotId=snapshot, ChangedBlocksCount=len(digests),
        Checksum=aggregate, ChecksumAlgorithm="SHA256", ChecksumAggregationMethod="LINEAR",
    )
    seconds = time.monotonic() - started
    print(json.dumps({"snapshotId": snapshot, "blocksUploaded": len(digests), "bytesSent": len(digests) * BLOCK, "seconds": seconds}))


if __name__ == "__main__":
    main()
