"""The Sync dialog: where to sync from, the token, a connection test and the last sync time.

Settings (base URL, organization, project, endpoint path, page size, proxy, CA file) are
remembered in QSettings; the token and the proxy password never are. A typed token is kept (in
the system keyring, or in memory when the system has no secure keyring) only once the server
has accepted it. A stored token is not put back into the token field: leaving the field empty
uses it. The advanced section says which proxy is used and where that setting came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from auditviewer.core.errors import AuditViewerError
from auditviewer.core.sync import (
    DEFAULT_BASE_URL,
    DEFAULT_PATH_TEMPLATE,
    DEFAULT_PER_PAGE,
    SyncConfig,
    SyncError,
    sync_status,
)
from auditviewer.core.sync.config import MAX_PER_PAGE
from auditviewer.core.sync.network import parse_proxy_url
from auditviewer.core.sync.token_store import TokenStore, account_name
from auditviewer.core.wording import counted
from auditviewer.ui.plain_text import plain_label, visible, visible_multiline
from auditviewer.ui.table.entry_format import format_time_local_and_utc
from auditviewer.ui.tasks.job import Job
from auditviewer.ui.tasks.runner import TaskRunner
from auditviewer.ui.tasks.sync_jobs import (
    PROXY_SETTING_SOURCE,
    CheckOutcome,
    SyncRequest,
    connection_check_job,
    proxy_account,
    settings_proxy,
)

if TYPE_CHECKING:
    from auditviewer.core.store.connection import Store
    from auditviewer.ui.settings import UiSettings

NO_KEYRING_NOTE = (
    "This system has no secure keyring, so the token cannot be stored: it is never written "
    "to disk, and is kept in memory for this session only."
)
STORED_PLACEHOLDER = "Stored in the system keyring — leave empty to use it"
SESSION_PLACEHOLDER = "Kept for this session — leave empty to use it"
EMPTY_PLACEHOLDER = "Organization Auth Token"


class SyncSettings:
    """The sync fields remembered in the viewer's QSettings (never the token)."""

    def __init__(self, settings: UiSettings) -> None:
        self.qsettings = settings.qsettings

    def _text(self, key: str, default: str) -> str:
        value = self.qsettings.value(f"sync/{key}", default)
        return value if isinstance(value, str) else default

    def load(self) -> dict[str, str]:
        """The remembered fields, with defaults."""
        return {
            "base_url": self._text("base_url", DEFAULT_BASE_URL) or DEFAULT_BASE_URL,
            "org": self._text("org", ""),
            "project": self._text("project", ""),
            "path": self._text("path", DEFAULT_PATH_TEMPLATE) or DEFAULT_PATH_TEMPLATE,
            "per_page": self._text("per_page", str(DEFAULT_PER_PAGE)),
            "proxy": self._text("proxy", ""),
            "ca_file": self._text("ca_file", ""),
            "remember": self._text("remember", "true"),
        }

    def save(self, config: SyncConfig, remember: bool) -> None:
        """Remembers the fields of ``config`` (which holds no token)."""
        values = {
            "base_url": config.base_url,
            "org": config.org,
            "project": config.project or "",
            "path": config.path_template,
            "per_page": str(config.per_page),
            "proxy": config.proxy or "",
            "ca_file": config.ca_file or "",
            "remember": "true" if remember else "false",
        }
        for key, value in values.items():
            self.qsettings.setValue(f"sync/{key}", value)
        self.qsettings.sync()


class SyncDialog(QDialog):
    """Asks what to sync; emits :attr:`sync_requested` and closes when Sync is pressed."""

    sync_requested = Signal(object)  # SyncRequest

    def __init__(
        self,
        settings: UiSettings,
        tokens: TokenStore,
        store: Store | None,
        tasks: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sync from Memfault")
        self.tokens = tokens
        self.store = store
        self.tasks = tasks
        self.sync_settings = SyncSettings(settings)
        self.check: Job | None = None
        # The typed token under test, to keep once the server accepts it (never shown).
        self._check_token = ""
        self._secure = tokens.secure
        saved = self.sync_settings.load()

        layout = QVBoxLayout(self)
        intro = plain_label(
            "Copies the organization's audit log from the Memfault API into this store. "
            "Later syncs fetch only what is new; an interrupted sync resumes where it stopped."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        source = QGroupBox("Source")
        form = QFormLayout(source)
        self.base_edit = QLineEdit(saved["base_url"])
        self.base_edit.setPlaceholderText(DEFAULT_BASE_URL)
        self.base_edit.setAccessibleName("API base URL")
        form.addRow(plain_label("API base URL"), self.base_edit)
        self.org_edit = QLineEdit(saved["org"])
        self.org_edit.setPlaceholderText("organization slug, e.g. acme")
        self.org_edit.setAccessibleName("Organization slug")
        form.addRow(plain_label("Organization"), self.org_edit)
        self.project_edit = QLineEdit(saved["project"])
        self.project_edit.setPlaceholderText("optional: all projects")
        self.project_edit.setAccessibleName("Project slug")
        form.addRow(plain_label("Project"), self.project_edit)

        self.advanced_button = QToolButton()
        self.advanced_button.setText("Advanced")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setAutoRaise(True)
        self.advanced_button.toggled.connect(self._show_advanced)
        form.addRow(self.advanced_button)
        self.advanced = QWidget()
        advanced_form = QFormLayout(self.advanced)
        advanced_form.setContentsMargins(0, 0, 0, 0)
        self.path_edit = QLineEdit(saved["path"])
        self.path_edit.setAccessibleName("Endpoint path template")
        self.path_edit.setToolTip(
            "The audit-log endpoint, relative to the base URL. {org} is replaced by the "
            "organization and {project} by the project."
        )
        advanced_form.addRow(plain_label("Endpoint path"), self.path_edit)
        self.per_page_spin = QSpinBox()
        self.per_page_spin.setRange(1, MAX_PER_PAGE)
        self.per_page_spin.setValue(_int(saved["per_page"], DEFAULT_PER_PAGE))
        self.per_page_spin.setAccessibleName("Entries per page")
        advanced_form.addRow(plain_label("Entries per page"), self.per_page_spin)
        self.proxy_edit = QLineEdit(saved["proxy"])
        self.proxy_edit.setPlaceholderText("from the environment, or http://[user@]host:port")
        self.proxy_edit.setAccessibleName("Proxy")
        self.proxy_edit.setToolTip(
            "The HTTP proxy to use. Empty: HTTPS_PROXY or ALL_PROXY from the environment, "
            "unless NO_PROXY lists the host."
        )
        advanced_form.addRow(plain_label("Proxy"), self.proxy_edit)
        self.proxy_password_edit = QLineEdit()
        self.proxy_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.proxy_password_edit.setAccessibleName("Proxy password")
        advanced_form.addRow(plain_label("Proxy password"), self.proxy_password_edit)
        ca_row = QHBoxLayout()
        self.ca_edit = QLineEdit(saved["ca_file"])
        self.ca_edit.setPlaceholderText("optional: a company CA certificate (PEM)")
        self.ca_edit.setAccessibleName("CA file")
        self.ca_edit.setToolTip(
            "Certificate authorities to trust besides the system's trust store, e.g. the CA "
            "of a company proxy that inspects TLS. Verification is never turned off."
        )
        ca_row.addWidget(self.ca_edit, 1)
        self.ca_browse_button = QPushButton("Browse…")
        self.ca_browse_button.clicked.connect(self._choose_ca_file)
        ca_row.addWidget(self.ca_browse_button)
        advanced_form.addRow(plain_label("CA file"), ca_row)
        self.network_label = plain_label("")
        self.network_label.setWordWrap(True)
        advanced_form.addRow(self.network_label)
        self.advanced.setVisible(False)
        form.addRow(self.advanced)
        layout.addWidget(source)

        token_box = QGroupBox("Organization Auth Token")
        token_layout = QVBoxLayout(token_box)
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setAccessibleName("Organization Auth Token")
        self.token_edit.setPlaceholderText(EMPTY_PLACEHOLDER)
        self.token_edit.textChanged.connect(self._update_buttons)
        token_layout.addWidget(self.token_edit)
        remember_row = QHBoxLayout()
        self.remember_check = QCheckBox(
            "Remember in the system keyring" if self._secure else "Remember for this session"
        )
        self.remember_check.setChecked(saved["remember"] != "false")
        self.remember_check.setToolTip("The token is kept only after the server has accepted it.")
        remember_row.addWidget(self.remember_check)
        remember_row.addStretch(1)
        self.forget_button = QPushButton("Forget Stored Token")
        self.forget_button.clicked.connect(self._forget_token)
        remember_row.addWidget(self.forget_button)
        token_layout.addLayout(remember_row)
        self.keyring_note = plain_label(NO_KEYRING_NOTE)
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setVisible(not self._secure)
        token_layout.addWidget(self.keyring_note)
        layout.addWidget(token_box)

        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test Connection")
        self.test_button.clicked.connect(self.test_connection)
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        self.result_label = plain_label("")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row.addWidget(self.result_label, 1)
        layout.addLayout(test_row)

        self.status_label = plain_label("")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.sync_button = self.buttons.addButton("Sync", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sync_button.setDefault(True)
        self.buttons.accepted.connect(self.start_sync)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        for edit in (
            self.base_edit,
            self.org_edit,
            self.project_edit,
            self.path_edit,
            self.proxy_edit,
            self.ca_edit,
        ):
            edit.editingFinished.connect(self._on_scope_changed)
        self.org_edit.textChanged.connect(self._update_buttons)
        self.setMinimumWidth(560)
        self._on_scope_changed()
        (self.token_edit if self.org_edit.text() else self.org_edit).setFocus()

    # --- the fields ----------------------------------------------------------------------------

    def config(self) -> SyncConfig:
        """The settings as typed; raises :class:`SyncError` (a config error) when unusable."""
        per_page = self.per_page_spin.value()
        return SyncConfig(
            org=self.org_edit.text().strip(),
            project=self.project_edit.text().strip() or None,
            base_url=self.base_edit.text().strip() or DEFAULT_BASE_URL,
            path_template=self.path_edit.text().strip() or DEFAULT_PATH_TEMPLATE,
            per_page=per_page,
            overlap=per_page,
            proxy=self._proxy_setting(),
            ca_file=self.ca_edit.text().strip() or None,
        ).validated()

    def _proxy_setting(self) -> str | None:
        """The proxy field as a URL without a password; a typed password moves to its field."""
        text = self.proxy_edit.text().strip()
        if not text:
            return None
        choice = parse_proxy_url(text, PROXY_SETTING_SOURCE)
        assert choice.url is not None
        if choice.password is not None:
            self.proxy_password_edit.setText(choice.password)
        url = choice.setting_url()
        assert url is not None
        if url != text:
            self.proxy_edit.setText(url)
        return url

    def _proxy_password(self, config: SyncConfig) -> str:
        """The typed proxy password, else the one kept for this proxy."""
        typed = self.proxy_password_edit.text()
        if typed or not config.proxy:
            return typed
        return self.tokens.load(proxy_account(config.proxy)) or ""

    def _choose_ca_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a CA certificate", "", "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.ca_edit.setText(path)
            self._on_scope_changed()

    def _update_network(self, config: SyncConfig | None) -> None:
        if config is None:
            self.network_label.setText("")
            return
        password = self._proxy_password(config)  # the keyring is read once
        try:
            choice = settings_proxy(config, password)
        except SyncError as exc:
            self.network_label.setText(visible(str(exc), 400))
            return
        text = "Connection: " + choice.describe()
        if choice.url is not None and choice.username:
            text += "; password " + ("given" if password else "not given")
        text += ". Certificates: the system's trust store and the bundled list"
        if config.ca_file:
            text += f", and {config.ca_file}"
        shown = visible(text + ".", 600)
        self.network_label.setText(shown)
        # The form does not pass a wrapped label's height on: reserve its lines.
        width = max(self.network_label.width(), 400)
        lines = self.network_label.fontMetrics().boundingRect(
            0, 0, width, 10_000, Qt.TextFlag.TextWordWrap, shown
        )
        self.network_label.setMinimumHeight(lines.height())
        self.advanced.setMinimumHeight(self.advanced.sizeHint().height())
        if self.advanced.isVisible():
            QTimer.singleShot(0, self.adjustSize)

    def _show_advanced(self, on: bool) -> None:
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.advanced.setVisible(on)
        self.adjustSize()

    def _stored_token_kind(self, config: SyncConfig) -> str | None:
        """'keyring' or 'session' when a token is kept for this organization, else None."""
        if self.tokens.load(account_name(config.base_url, config.org)) is None:
            return None
        return "keyring" if self._secure else "session"

    def _on_scope_changed(self) -> None:
        try:
            config: SyncConfig | None = self.config()
        except SyncError:
            config = None
        kind = None if config is None else self._stored_token_kind(config)
        placeholder = {"keyring": STORED_PLACEHOLDER, "session": SESSION_PLACEHOLDER}
        self.token_edit.setPlaceholderText(placeholder.get(kind or "", EMPTY_PLACEHOLDER))
        self.forget_button.setVisible(kind is not None)
        self._update_status(config)
        self._update_network(config)
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self.check is None
        has_org = bool(self.org_edit.text().strip())
        self.test_button.setEnabled(idle and has_org)
        self.sync_button.setEnabled(idle and has_org)

    def _update_status(self, config: SyncConfig | None) -> None:
        if config is None or self.store is None:
            self.status_label.setText(
                "Enter the organization to see when it was last synced into this store."
            )
            return
        try:
            status = sync_status(self.store, config)
        except AuditViewerError as exc:
            self.status_label.setText(visible(f"The store cannot be read: {exc}", 400))
            return
        scope = visible(config.org, 80)
        if config.project:
            scope += f" (project {visible(config.project, 80)})"
        lines = []
        if status.last_success_utc is None:
            lines.append(f"{scope} has not been synced into this store yet.")
        else:
            last = format_time_local_and_utc(status.last_success_utc)
            lines.append(f"Last successful sync of {scope}: {last}")
        if status.in_progress:
            offset = status.resume_offset or 0
            lines.append(
                "An interrupted sync will resume where it stopped "
                f"({counted(offset, 'entry')} read)."
            )
        self.status_label.setText("\n".join(lines))

    def _forget_token(self) -> None:
        try:
            config = self.config()
        except SyncError as exc:
            self._say(str(exc))
            return
        self.tokens.forget(account_name(config.base_url, config.org))
        self._say("The stored token was removed.")
        self._on_scope_changed()

    def _say(self, text: str) -> None:
        text = text[:1].upper() + text[1:1000]
        self.result_label.setText(visible_multiline(text))

    def _keep_proxy_password(self, config: SyncConfig) -> str:
        """The proxy password for this run; a typed one is kept like the token when asked."""
        password = self._proxy_password(config)
        typed = self.proxy_password_edit.text()
        if typed and config.proxy and self.remember_check.isChecked():
            self.tokens.save(proxy_account(config.proxy), typed)
        return password

    def _inputs(self) -> tuple[SyncConfig, str, bool] | None:
        """(config, token, typed) from the fields; None after saying what is missing."""
        try:
            config = self.config()
        except SyncError as exc:
            self._say(str(exc))
            return None
        typed = self.token_edit.text().strip()
        if typed:
            return config, typed, True
        stored = self.tokens.load(account_name(config.base_url, config.org))
        if not stored:
            self._say("Enter the organization's Auth Token.")
            self.token_edit.setFocus()
            return None
        return config, stored, False

    # --- test connection -----------------------------------------------------------------------

    def test_connection(self) -> None:
        """Fetches one entry in the background and says how many entries the log holds."""
        if self.check is not None:
            return
        inputs = self._inputs()
        if inputs is None:
            return
        config, token, typed = inputs
        self.sync_settings.save(config, self.remember_check.isChecked())
        # The runner outlives the dialog: a check still running when it closes finishes there.
        check = connection_check_job(
            config, token, proxy_password=self._keep_proxy_password(config)
        )
        check.done.connect(self._on_check_finished)
        self._check_token = token if typed and self.remember_check.isChecked() else ""
        self.check = check
        self._say("Testing the connection…")
        self._update_buttons()
        self.tasks.start(check)

    def _on_check_finished(self, job: Job) -> None:
        if job is not self.check:
            return
        self.check = None
        token, self._check_token = self._check_token, ""
        self._update_buttons()
        check: CheckOutcome | None = job.result
        if check is None:
            self._say(job.error or "The connection test failed.")
            return
        if check.cancelled:
            self._say("The connection test was cancelled.")
            return
        if not check.ok:
            self._say(check.error or "The connection test failed.")
            return
        config = check.config
        where = f"the audit log of {config.org!r}"
        if config.project:
            where += f" (project {config.project!r})"
        if check.total is None:
            text = f"Connected: the token can read {where}; the server gave no entry count."
        else:
            text = f"Connected: {where} holds {counted(check.total, 'entry')}."
        if token:
            saved = self.tokens.save(account_name(config.base_url, config.org), token)
            text += f"\n{saved.message[:1].upper()}{saved.message[1:]}."
            self._on_scope_changed()
        self._say(text)

    # --- sync ----------------------------------------------------------------------------------

    def start_sync(self) -> None:
        """Hands the sync to the window (it runs in the background) and closes."""
        if self.check is not None:
            return
        inputs = self._inputs()
        if inputs is None:
            return
        config, token, typed = inputs
        remember = self.remember_check.isChecked()
        self.sync_settings.save(config, remember)
        self.sync_requested.emit(
            SyncRequest(
                config,
                token,
                save_token=typed and remember,
                proxy_password=self._keep_proxy_password(config),
            )
        )
        self.accept()

    def done(self, result: int) -> None:
        """Closes; a connection test still running is cancelled and finishes on its own."""
        check, self.check = self.check, None
        self._check_token = ""
        if check is not None:
            check.done.disconnect(self._on_check_finished)
            check.cancel()
        self.token_edit.clear()
        self.proxy_password_edit.clear()
        super().done(result)


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default
