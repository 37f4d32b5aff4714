#!/usr/bin/env python3
"""Test peers for tests/integration/alert_notify.sh (loopback only).

  alert_peers.py webhook PORTFILE OUTDIR [--delay S] [--fail N]
      HTTP server: every POST body is written to OUTDIR/NNNN.json and answered
      200 (after S seconds; the first N requests get 503 instead).
  alert_peers.py smtp PORTFILE OUTDIR
      A minimal SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA,
      RSET, NOOP, QUIT): each message is written to OUTDIR/NNNN.eml with the
      envelope in OUTDIR/NNNN.env.
Each binds 127.0.0.1 on a free port and writes the port to PORTFILE.
"""
import http.server
import os
import socketserver
import sys
import threading
import time


def save(outdir, ext, data):
    with save.lock:
        save.n += 1
        n = save.n
    tmp = os.path.join(outdir, ".%04d.tmp" % n)
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(outdir, "%04d.%s" % (n, ext)))
    return n


save.n = 0
save.lock = threading.Lock()


def webhook(portfile, outdir, delay, fail):
    state = {"fail": fail}

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state["fail"] > 0:
                state["fail"] -= 1
                self.send_response(503)
                self.end_headers()
                return
            if delay:
                time.sleep(delay)
            save(outdir, "json", body)
            with open(os.path.join(outdir, "auth.txt"), "a") as f:
                f.write(self.headers.get("Authorization", "") + "\n")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H)
    write_port(portfile, srv.server_address[1])
    srv.serve_forever()


class SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 sink.test ESMTP")
        mail_from, rcpt = None, []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-sink.test" if verb == "EHLO" else "250 sink.test")
                if verb == "EHLO":
                    if self.server.tls and not getattr(self, "in_tls", False):
                        self.reply("250-STARTTLS")
                    self.reply("250 8BITMIME")
            elif cmd.upper() == "STARTTLS" and self.server.tls:
                self.reply("220 go ahead")
                self.wfile.flush()
                self.connection = self.server.tls.wrap_socket(self.connection, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb", buffering=0)
                self.in_tls = True
                mail_from, rcpt = None, []
            elif verb == "MAIL":
                mail_from, rcpt = cmd[10:].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpt.append(cmd[8:].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with .")
                data = []
                while True:
                    l = self.rfile.readline(65536)
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data.append(l)
                n = save(self.server.outdir, "eml", b"".join(data))
                with open(os.path.join(self.server.outdir, "%04d.env" % n), "w") as f:
                    f.write("FROM %s\nTO %s\nTLS %s\n" % (mail_from, " ".join(rcpt),
                                                           "yes" if getattr(self, "in_tls", False) else "no"))
                self.reply("250 queued")
            elif verb == "RSET":
                mail_from, rcpt = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


def smtp(portfile, outdir, tls_cert):
    class S(socketserver.ThreadingMixIn, socketserver.TCPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = S(("127.0.0.1", PORT), SMTPHandler)
    srv.outdir = outdir
    srv.tls = None
    if tls_cert:
        import ssl
        srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.tls.load_cert_chain(tls_cert[0], tls_cert[1])
    write_port(portfile, srv.server_address[1])
    srv.serve_forever()


def write_port(portfile, port):
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(portfile + ".tmp", portfile)


if __name__ == "__main__":
    kind, portfile, outdir = sys.argv[1:4]
    args = sys.argv[4:]
    delay = float(args[args.index("--delay") + 1]) if "--delay" in args else 0
    fail = int(args[args.index("--fail") + 1]) if "--fail" in args else 0
    PORT = int(args[args.index("--port") + 1]) if "--port" in args else 0
    os.makedirs(outdir, exist_ok=True)
    if kind == "webhook":
        webhook(portfile, outdir, delay, fail)
    else:
        i = args.index("--tls") if "--tls" in args else -1
        smtp(portfile, outdir, args[i + 1:i + 3] if i >= 0 else None)
