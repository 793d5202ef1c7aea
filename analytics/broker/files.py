"""The broker folder (``hub.broker.dir``): ``passwords``, ``acl`` and ``mosquitto.conf``, written
atomically (temporary file, fsync, rename), keeping an existing file's owner, group and mode so the
broker can still read it (new files: 0640, with ``hub.broker.file_group`` as their group).  A lock
file serialises operators, and a change to several files is undone as a whole if one write fails."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from analytics.broker.passwords import PasswordFileError, parse_password_file

PASSWORDS = "passwords"
ACL = "acl"
CONF = "mosquitto.conf"
NEW_FILE_MODE = 0o640


class BrokerFilesError(OSError):
    """A broker file that cannot be read or written; the message names it."""


@dataclass(frozen=True)
class BrokerDir:
    path: Path
    file_group: str | None = None

    @property
    def passwords(self) -> Path:
        return self.path / PASSWORDS

    @property
    def acl(self) -> Path:
        return self.path / ACL

    @property
    def conf(self) -> Path:
        return self.path / CONF

    def ensure(self) -> None:
        if self.path.is_dir():
            return
        try:
            self.path.mkdir(parents=True, mode=0o750)
            if self.file_group:
                shutil.chown(self.path, group=self.file_group)
        except (OSError, LookupError) as exc:
            raise BrokerFilesError(f"cannot create the broker folder {self.path}: {exc}") from None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock: one operator command changes the files at a time."""
        self.ensure()
        with open(self.path / ".lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def read_passwords(self) -> dict[str, str]:
        try:
            text = self.passwords.read_text()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BrokerFilesError(f"cannot read {self.passwords}: {exc}") from None
        try:
            return parse_password_file(text, str(self.passwords))
        except PasswordFileError as exc:
            raise BrokerFilesError(str(exc)) from None

    def write(self, texts: Mapping[Path, str]) -> list[Path]:
        """Write every file, or none: on a failure the files already replaced get their old text
        back.  Returns the files whose content changed."""
        old: dict[Path, str | None] = {}
        changed: list[Path] = []
        try:
            for path, text in texts.items():
                before = read_optional(path)
                old[path] = before
                if before == text:
                    continue
                write_atomic(path, text, self.file_group)
                changed.append(path)
        except BaseException:
            for path in reversed(changed):
                before = old[path]
                try:
                    if before is None:
                        path.unlink(missing_ok=True)
                    else:
                        write_atomic(path, before, self.file_group)
                except OSError:  # best effort; the first error is what matters
                    pass
            raise
        return changed


def read_optional(path: Path) -> str | None:
    """A file's text, or None when there is no such file."""
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokerFilesError(f"cannot read {path}: {exc}") from None


def write_atomic(path: Path, text: str, group: str | None = None) -> None:
    """Replace ``path`` with ``text`` in one rename, keeping the old file's owner, group and mode."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if st is not None:
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                os.chown(tmp, st.st_uid, st.st_gid)
            os.chmod(tmp, st.st_mode & 0o777)
        else:
            if group:
                shutil.chown(tmp, group=group)
            os.chmod(tmp, NEW_FILE_MODE)
        os.replace(tmp, path)
    except (OSError, LookupError) as exc:
        tmp.unlink(missing_ok=True)
        raise BrokerFilesError(f"cannot write {path}: {exc}") from None
