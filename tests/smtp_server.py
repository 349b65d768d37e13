#!/usr/bin/env python3
"""A real SMTP server for l2lens's email tests.

  smtp_server.py serve PORT MAILDIR [USER:PASSWORD] [--tls CERT KEY]
      aiosmtpd on 127.0.0.1:PORT, every message saved to MAILDIR; with USER:PASSWORD the
      server requires AUTH (PLAIN/LOGIN); with --tls it offers and requires STARTTLS with
      that certificate. Prints "ready" once listening and stops when its standard input
      closes.
  smtp_server.py dump MAILDIR
      prints the delivered messages as JSON: subject, from, to, and the decoded text and
      HTML parts.
"""
import json
import mailbox
import sys


def serve(port, maildir, credentials, tls):
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
    if tls:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls[0], tls[1])
        kwargs.update(tls_context=context, require_starttls=True)
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
        # The parts of each multipart/related part: content type and Content-ID.
        item["related"] = [
            {"content_type": sub.get_content_type(), "content_id": sub.get("Content-ID")}
            for part in message.walk()
            if part.get_content_type() == "multipart/related"
            for sub in part.get_payload()
        ]
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                item["text"] = part.get_payload(decode=True).decode()
            elif part.get_content_type() == "text/html":
                item["html"] = part.get_payload(decode=True).decode()
        out.append(item)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        args = sys.argv[2:]
        tls = None
        if "--tls" in args:
            i = args.index("--tls")
            tls = (args[i + 1], args[i + 2])
            args = args[:i] + args[i + 3:]
        serve(int(args[0]), args[1], args[2] if len(args) > 2 else None, tls)
    elif sys.argv[1] == "dump":
        dump(sys.argv[2])
    else:
        sys.exit(__doc__)
