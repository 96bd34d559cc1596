#!/usr/bin/env python3
"""A tiny recording SMTP server for the Postfix end-to-end test.

Python 3.11 standard library only (smtpd/asyncore are gone): socketserver
with one thread per connection, bound to 127.0.0.1 on a free port (port 0).

Each server has a name and three knobs:

  offer_auth     advertise "250-AUTH PLAIN LOGIN" in the EHLO reply
  require_auth   answer "530 5.7.0 Authentication required" to MAIL FROM
                 while the session has not authenticated (the SES gateway)
  passwords      None: accept any password; a dict user -> password: a
                 wrong or unknown pair gets "535 5.7.8 Authentication
                 credentials invalid"

Every server offers SMTPUTF8 and 8BITMIME (a UTF-8 sender needs SMTPUTF8),
but not PIPELINING, so the dialogue is strictly one command, one reply.

What is recorded, one Session per connection (Sink.sessions, in order):
port, the AUTH mechanism and username Postfix sent (also when rejected)
and whether AUTH succeeded, MAIL FROM (the address and its parameters),
the reply to MAIL FROM, RCPT TO addresses, and whether DATA completed.
"""

import base64
import binascii
import socketserver
import threading
import time


class Session:
    def __init__(self, server_name, port):
        self.server = server_name
        self.port = port
        self.started = time.monotonic()
        self.helo = None
        self.auth_mech = None
        self.auth_user = None        # username Postfix sent, even if rejected
        self.auth_ok = False
        self.auth_reply = None
        self.mail_from = None        # address between < >, as sent (bytes decoded utf-8)
        self.mail_params = ""
        self.mail_reply = None
        self.rcpts = []
        self.delivered = False
        self.headers = b""
        self.closed = False

    def __repr__(self):
        return ("Session(%s:%d auth=%r ok=%s from=%r params=%r reply=%r rcpt=%r delivered=%s)"
                % (self.server, self.port, self.auth_user, self.auth_ok, self.mail_from,
                   self.mail_params, self.mail_reply, self.rcpts, self.delivered))


def _b64(data):
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def _parse_path(arg):
    """'FROM:<addr> PARAMS' tail after 'MAIL ' -> (addr, params) or None."""
    colon = arg.find(":")
    if colon < 0:
        return None
    rest = arg[colon + 1:].lstrip()
    if not rest.startswith("<"):
        return None
    # The address may contain '>' inside quotes; take the last '>' before params.
    depth_quote = False
    i = 1
    while i < len(rest):
        c = rest[i]
        if c == "\\" and depth_quote:
            i += 2
            continue
        if c == '"':
            depth_quote = not depth_quote
        elif c == ">" and not depth_quote:
            return rest[1:i], rest[i + 1:].strip()
        i += 1
    return None


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def send(self, line):
        self.wfile.write(line.encode("utf-8") + b"\r\n")
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(65536)
        if not line:
            return None
        return line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")

    def handle(self):
        sink = self.server.sink
        sess = Session(sink.name, sink.port)
        with sink.lock:
            sink.sessions.append(sess)
        try:
            self._dialogue(sink, sess)
        except (OSError, ValueError):
            pass
        finally:
            sess.closed = True
            with sink.lock:
                sink.cond.notify_all()

    def _auth(self, sink, sess, arg):
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        sess.auth_mech = mech
        if mech == "PLAIN":
            if len(parts) > 1:
                data = parts[1]
            else:
                self.send("334 ")
                data = self.readline()
                if data is None:
                    return
            raw = _b64(data) if data != "=" else b""
            if raw is None or raw.count(b"\0") != 2:
                self.send("501 5.5.2 Cannot decode AUTH PLAIN response")
                return
            _authz, user, password = raw.split(b"\0")
        elif mech == "LOGIN":
            if len(parts) > 1:
                user = _b64(parts[1])
            else:
                self.send("334 VXNlcm5hbWU6")
                line = self.readline()
                if line is None:
                    return
                user = _b64(line)
            self.send("334 UGFzc3dvcmQ6")
            line = self.readline()
            if line is None:
                return
            password = _b64(line)
            if user is None or password is None:
                self.send("501 5.5.2 Cannot decode AUTH LOGIN response")
                return
        else:
            self.send("504 5.5.4 Unrecognized authentication type")
            return
        sess.auth_user = user.decode("utf-8", "surrogateescape")
        pw = password.decode("utf-8", "surrogateescape")
        if sink.passwords is not None and sink.passwords.get(sess.auth_user) != pw:
            sess.auth_reply = "535"
            self.send("535 5.7.8 Authentication credentials invalid")
            return
        sess.auth_ok = True
        sess.auth_reply = "235"
        self.send("235 2.7.0 Authentication successful")

    def _dialogue(self, sink, sess):
        self.send("220 %s ESMTP mapctl-e2e-sink" % sink.name)
        while True:
            line = self.readline()
            if line is None:
                return
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                sess.helo = arg
                lines = ["250-%s" % sink.name]
                if sink.offer_auth:
                    lines.append("250-AUTH PLAIN LOGIN")
                lines += ["250-8BITMIME", "250-SMTPUTF8", "250 ENHANCEDSTATUSCODES"]
                for out in lines:
                    self.send(out)
            elif verb == "HELO":
                sess.helo = arg
                self.send("250 %s" % sink.name)
            elif verb == "AUTH":
                if not sink.offer_auth:
                    self.send("502 5.5.1 AUTH not offered")
                elif sess.auth_ok:
                    self.send("503 5.5.1 Already authenticated")
                else:
                    self._auth(sink, sess, arg)
            elif verb == "MAIL":
                parsed = _parse_path(arg)
                if parsed is None:
                    self.send("501 5.5.4 Syntax: MAIL FROM:<address>")
                    continue
                sess.mail_from, sess.mail_params = parsed
                if sink.require_auth and not sess.auth_ok:
                    sess.mail_reply = "530"
                    self.send("530 5.7.0 Authentication required")
                    continue
                sess.mail_reply = "250"
                self.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                if sess.mail_reply != "250":
                    self.send("503 5.5.1 Need MAIL command")
                    continue
                parsed = _parse_path(arg)
                if parsed is None:
                    self.send("501 5.5.4 Syntax: RCPT TO:<address>")
                    continue
                sess.rcpts.append(parsed[0])
                self.send("250 2.1.5 Ok")
            elif verb == "DATA":
                if not sess.rcpts:
                    self.send("503 5.5.1 Need RCPT command")
                    continue
                self.send("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while True:
                    raw = self.rfile.readline(1 << 20)
                    if not raw:
                        return
                    if raw in (b".\r\n", b".\n"):
                        break
                    body.append(raw)
                data = b"".join(body)
                sess.headers = data.split(b"\r\n\r\n", 1)[0]
                sess.delivered = True
                self.send("250 2.0.0 Ok: queued as E2E")
            elif verb == "RSET":
                sess.mail_reply = None
                sess.rcpts = []
                self.send("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                return
            else:
                self.send("502 5.5.2 Command not recognized")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class Sink:
    """One recording SMTP server on 127.0.0.1:<free port>."""

    def __init__(self, name, offer_auth=True, require_auth=False, passwords=None):
        self.name = name
        self.offer_auth = offer_auth
        self.require_auth = require_auth
        self.passwords = passwords
        self.sessions = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="sink-" + name, daemon=True)
        self._thread.start()

    def snapshot(self):
        with self.lock:
            return list(self.sessions)

    def close(self):
        self._server.shutdown()
        self._server.server_close()
