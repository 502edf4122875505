# One sample of the first source server's replication, from `ferry source list --output json`
# on standard input: "<unix time> <lag s> <backlog bytes> <state>".
import json
import sys
import time

servers = json.load(sys.stdin)
if servers:
    m = servers[0]["replicationMetrics"]
    print(f"{time.time():.2f} {m.get('lagSeconds') or 0:.2f} {m.get('backlogBytes', 0)} {servers[0]['dataReplicationState']}")
