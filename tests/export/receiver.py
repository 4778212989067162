"""A small OTLP/HTTP receiver for tests/cli/export.rs: what agentwatch's
`[export.otlp]` sends, decoded with the official protobuf definitions (PyPI
`opentelemetry-proto`), not with agentwatch's own code.

Usage: receiver.py OUT.jsonl. Prints the port it listens on (127.0.0.1),
then appends one JSON line per request: {"path", "headers", "body"}, the
body as protobuf's JSON mapping.
"""

import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

SIGNALS = {
    "/v1/metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
    ),
    "/v1/logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
}

out = open(sys.argv[1], "a", encoding="utf-8")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        signal = SIGNALS.get(self.path)
        if signal is None or self.headers.get("Content-Type") != "application/x-protobuf":
            self.send_response(415 if signal else 404)
            self.end_headers()
            return
        req = signal[0]()
        req.ParseFromString(body)
        line = {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": MessageToDict(req),
        }
        out.write(json.dumps(line) + "\n")
        out.flush()
        reply = signal[1]().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
