"""A throwaway Dovecot for tests (docs/mailboxes.md): IMAP and POP3 on free loopback ports, plain
and TLS, in a temporary directory, with a passwd-file of test users and a CA made here.

Dovecot refuses a userdb uid of 0, so the mail belongs to the ``dovecot`` user (or, not as
root, to the current user). Messages go in with IMAP APPEND, or straight into the maildir.
``python -m tests.dovecot`` starts one and prints its ports and CA file (the docs' session).
"""

from __future__ import annotations

import datetime
import imaplib
import ipaddress
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emailshare.testing import free_port, stop_group, wait_for_port

_CONF = """\
protocols = imap pop3
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
disable_plaintext_auth = no
auth_mechanisms = plain login
# Every character in a login (by default Dovecot refuses all but ASCII letters, digits and
# .-_@): tests/mail/test_connect.py logs in as zoë@acme.test.
auth_username_chars =
ssl = yes
ssl_cert = <{dir}/server.pem
ssl_key = <{dir}/server.key
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%u
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""


def _owner() -> tuple[str, int, int]:
    entry = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def make_ca(directory: Path) -> Path:
    """A self-signed CA and a server certificate for 127.0.0.1 / localhost; the CA's path."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emailshare test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return directory / "ca.pem"


@dataclass
class Dovecot:
    """One Dovecot server; ``users`` maps login to password."""

    directory: Path
    users: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @classmethod
    def create(cls, users: dict[str, str]) -> Dovecot:
        directory = Path(tempfile.mkdtemp(prefix="emailshare-dovecot-"))
        directory.chmod(0o755)
        server = cls(directory, dict(users))
        make_ca(directory)
        for sub in ("run", "state", "mail"):
            (directory / sub).mkdir()
        name, uid, gid = _owner()
        os.chown(directory / "mail", uid, gid)
        (directory / "passwd").write_text(
            "".join(f"{u}:{{PLAIN}}{p}\n" for u, p in users.items()), encoding="utf-8"
        )
        server.ports = {p: free_port() for p in ("imap", "imaps", "pop3", "pop3s")}
        group = _group_name(gid)
        (directory / "dovecot.conf").write_text(
            _CONF.format(dir=directory, user=name, group=group, uid=uid, gid=gid, **server.ports),
            encoding="utf-8",
        )
        return server

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.directory / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its group: stop() ends the sessions with the master
        )
        try:
            for port in self.ports.values():
                wait_for_port("127.0.0.1", port, 15.0)
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"dovecot did not start: {self.log()[-2000:]}") from exc

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process, signal.SIGTERM, 10.0)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def imap(self, login: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.ports["imap"], timeout=10)
        conn.login(login, self.users[login])
        return conn

    def append(self, login: str, raw: bytes, folder: str = "INBOX", seen: bool = False) -> None:
        """Put one message in with IMAP APPEND."""
        conn = self.imap(login)
        try:
            typ, data = conn.append(folder, "(\\Seen)" if seen else "", None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def append_many(self, login: str, raws: list[bytes], folder: str = "INBOX") -> None:
        conn = self.imap(login)
        try:
            for raw in raws:
                typ, data = conn.append(folder, "", None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def maildir(self, login: str) -> Path:
        return self.directory / "mail" / login / "Maildir"

    def deliver(self, login: str, raw: bytes) -> None:
        """Write one message straight into the INBOX's maildir (what POP3 then serves)."""
        _, uid, gid = _owner()
        base = self.maildir(login)
        for sub in ("tmp", "new", "cur"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        for path in (base.parent, base, base / "tmp", base / "new", base / "cur"):
            os.chown(path, uid, gid)
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.emailshare"
        tmp = base / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, uid, gid)
        tmp.rename(base / "new" / name)

    def reset_uidvalidity(self, login: str) -> None:
        """Make Dovecot give the INBOX a new UIDVALIDITY: its uid list and indexes removed
        (the new value is the clock's second, so a second passes first)."""
        time.sleep(1.1)
        for path in self.maildir(login).glob("dovecot*"):
            path.unlink()


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def main(argv: list[str]) -> int:
    """``python -m tests.dovecot LOGIN PASSWORD``: start one, print its ports, wait."""
    if len(argv) != 2:
        print("usage: python -m tests.dovecot LOGIN PASSWORD", file=sys.stderr)
        return 2
    server = Dovecot.create({argv[0]: argv[1]})
    server.start()
    print(f"dovecot in {server.directory}: {server.ports}, CA {server.ca_file}", flush=True)
    try:
        assert server.process is not None
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
