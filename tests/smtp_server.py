#!/usr/bin/env python3
"""A real SMTP server for l2lens's email tests.

  smtp_server.py serve PORT MAILDIR [USER:PASSWORD]
      aiosmtpd on 127.0.0.1:PORT, every message saved to MAILDIR; with USER:PASSWORD the
      server requires AUTH (PLAIN/LOGIN, allowed without TLS on loopback). Prints "ready"
      once listening and stops when its standard input closes.
  smtp_server.py dump MAILDIR
      prints the delivered messages as JSON: subject, from, to, and the decoded text and
      HTML parts.
"""
import json
import mailbox
import sys


def serve(port, maildir, credentials):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Mailbox
    from aiosmtpd.smtp import AuthResult, LoginPassword

    kwargs = {}
    if credentials:
        user, password = credentials.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, handled=False)

        kwargs = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


def dump(maildir):
    out = []
    for message in mailbox.Maildir(maildir, create=False):
        item = {
            "subject": message["subject"],
            "from": message["from"],
            "to": message["to"],
            "content_type": message.get_content_type(),
            "text": None,
            "html": None,
        }
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                item["text"] = part.get_payload(decode=True).decode()
            elif part.get_content_type() == "text/html":
                item["html"] = part.get_payload(decode=True).decode()
        out.append(item)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    elif sys.argv[1] == "dump":
        dump(sys.argv[2])
    else:
        sys.exit(__doc__)
