"""Help > Signing Key…: the key that signs evidence packs, where it is kept, its public half.

The key is made only when the user asks (here, or by writing the first pack); until then the
dialog says where it would be kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from auditviewer.ui.plain_text import plain_label, visible
from auditviewer.ui.tasks.job import Job
from auditviewer.ui.tasks.jobs import key_place_job, signing_key_job
from auditviewer.ui.tasks.runner import TaskRunner

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from auditviewer.core.packs.signing import SigningKey

INTRO = (
    "Evidence packs are signed with an Ed25519 key of yours. Give its fingerprint to the "
    "recipients of your packs another way than the packs themselves (e-mail, phone, a "
    "letter): with it they can tell that a pack came from you and was not changed."
)
NO_KEY = "No signing key has been made yet. It is made when you ask for it here, or when you "
NO_KEY += "write your first evidence pack."


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where the signing key is looked for and kept: the system keyring when it is a secure
    one (``backend`` replaces it in tests; none without ``use_keyring``), else ``key_file``."""

    key_file: Path
    backend: KeyringBackend | None = None
    use_keyring: bool = True

    @classmethod
    def default(cls) -> KeySource:
        """The user's own: the system keyring, else a file in the user data folder."""
        from auditviewer.core.paths import default_signing_key_path

        return cls(default_signing_key_path())

    def load(self) -> SigningKey:
        """The key, made and kept now when there is none (may block on the keyring)."""
        from auditviewer.core.packs.signing import signing_key

        return signing_key(self.key_file, backend=self.backend, use_keyring=self.use_keyring)

    def place(self) -> tuple[bool, str]:
        """Whether a key is kept already, and where it is (or would be) kept, as a sentence;
        nothing is made."""
        from auditviewer.core.packs.signing import IN_KEYRING, key_place

        place = key_place(self.key_file, backend=self.backend, use_keyring=self.use_keyring)
        if place.kind == IN_KEYRING:
            verb = "is" if place.exists else "will be"
            return place.exists, f"The private key {verb} kept in the system keyring."
        if place.exists:
            return True, file_sentence(place.where, place.keyring_available)
        return False, (
            f"The private key will be kept in an owner-only file {place.where}: "
            "this system has no secure keyring."
        )


def file_sentence(path: str, keyring_available: bool) -> str:
    """Where a key kept in a file is, and why it is not in the keyring."""
    why = (
        "it was made before a secure keyring was available"
        if keyring_available
        else "this system has no secure keyring"
    )
    return f"The private key is kept in an owner-only file {path}: {why}."


def key_place(key: SigningKey) -> str:
    """Where ``key`` is kept, as a sentence for the window."""
    from auditviewer.core.packs.signing import IN_KEYRING

    if key.kept_in == IN_KEYRING:
        return "The private key is kept in the system keyring."
    return file_sentence(key.location, False)


def copy_text(text: str) -> None:
    """Puts ``text`` on the clipboard."""
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setText(text)


class SigningKeyDialog(QDialog):
    """The fingerprint, where the key is kept, and the public key PEM, all copyable."""

    def __init__(self, source: KeySource, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Signing Key")
        self.resize(780, 420)
        self._source = source
        self._tasks = tasks
        self.worker: Job | None = None
        self.looking: Job | None = None
        self.key: SigningKey | None = None

        layout = QVBoxLayout(self)
        intro = plain_label(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.place = plain_label("")
        self.place.setWordWrap(True)
        layout.addWidget(self.place)
        row = QHBoxLayout()
        row.addWidget(plain_label("Fingerprint"))
        self.fingerprint = QLineEdit(self)
        self.fingerprint.setReadOnly(True)
        self.fingerprint.setAccessibleName("Fingerprint")
        self.fingerprint.setFont(QFont("monospace"))
        sample = "0000 " * 16
        self.fingerprint.setMinimumWidth(self.fingerprint.fontMetrics().horizontalAdvance(sample))
        row.addWidget(self.fingerprint, 1)
        self.copy_fingerprint_button = QPushButton("Copy &Fingerprint", self)
        self.copy_fingerprint_button.clicked.connect(lambda: copy_text(self.fingerprint.text()))
        row.addWidget(self.copy_fingerprint_button)
        layout.addLayout(row)
        layout.addWidget(plain_label("Public key (PEM), as every pack holds it in pubkey.pem"))
        self.pem = QPlainTextEdit(self)
        self.pem.setReadOnly(True)
        self.pem.setAccessibleName("Public key")
        self.pem.setFont(QFont("monospace"))
        layout.addWidget(self.pem, 1)

        self.buttons = QDialogButtonBox(self)
        self.create_button = QPushButton("&Make the Key", self)
        self.copy_pem_button = QPushButton("Copy &Public Key", self)
        close = QPushButton("Close", self)
        self.buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.copy_pem_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(close, QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.clicked.connect(self.load_key)
        self.copy_pem_button.clicked.connect(lambda: copy_text(self.pem.toPlainText()))
        close.clicked.connect(self.close)
        layout.addWidget(self.buttons)
        self.refresh()

    def refresh(self) -> None:
        """Looks for the key in the background: shows it when one is kept, else where it would
        be kept and the button that makes it."""
        if self.key is not None or self.looking is not None or self.worker is not None:
            return
        looking = key_place_job(self._source.place)
        looking.done.connect(self._on_looked)
        self.looking = looking
        self.place.setText("Looking for the signing key…")
        self._show_key()
        self._tasks.start(looking)

    def _on_looked(self, looking: Job) -> None:
        if looking is not self.looking:
            return
        self.looking = None
        if looking.error is not None:
            self.place.setText(visible(f"The signing key cannot be read: {looking.error}", 600))
        elif looking.result is not None:
            exists, sentence = looking.result
            self.place.setText(sentence if exists else f"{NO_KEY} {sentence}")
            if exists:
                self.load_key()
                return
        self._show_key()

    def load_key(self) -> None:
        """Reads the key, making it when there is none yet."""
        if self.worker is not None:
            return
        worker = signing_key_job(self._source.load)
        worker.done.connect(self._on_loaded)
        self.worker = worker
        self.create_button.setEnabled(False)
        self._tasks.start(worker)

    def _on_loaded(self, worker: Job) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        if worker.error is not None:
            self.place.setText(visible(f"The signing key cannot be read: {worker.error}", 600))
        elif worker.result is not None:
            self.key = worker.result
            made = "A new key was made. " if self.key is not None and self.key.created else ""
            if self.key is not None:
                self.place.setText(made + key_place(self.key))
        self._show_key()

    def _show_key(self) -> None:
        key = self.key
        self.fingerprint.setText(key.fingerprint if key is not None else "")
        self.pem.setPlainText(key.public_pem.decode("ascii") if key is not None else "")
        self.create_button.setVisible(key is None)
        self.create_button.setEnabled(key is None and self.worker is None and self.looking is None)
        self.copy_fingerprint_button.setEnabled(key is not None)
        self.copy_pem_button.setEnabled(key is not None)
