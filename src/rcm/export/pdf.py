"""Word to PDF with LibreOffice in headless mode: the converter that renders our .docx faithfully on
a server without Word.

Each conversion runs in its own temporary directory with its own LibreOffice user profile: two
conversions sharing a profile would hand the second document to the first process (or fail on the
profile lock), and a service account may have no usable HOME.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from rcm.errors import RcmError

__all__ = ["INSTALL_HINT", "ConversionError", "docx_to_pdf", "pdf_available", "soffice_path"]

INSTALL_HINT = "PDF needs LibreOffice: apt-get install libreoffice-writer-nogui (make installs it)"

# Forcing the Word import filter: without it LibreOffice "converts" anything it cannot read as
# plain text and reports success.
_DOCX_FILTER = "MS Word 2007 XML"
_TAIL_LINES = 8


class ConversionError(RcmError):
    """The PDF could not be made: LibreOffice missing, too slow, or it refused the document."""

    status = 503
    exit_code = 3


def soffice_path() -> str | None:
    """LibreOffice's command on PATH (``soffice``, else ``libreoffice``), or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_available() -> bool:
    return soffice_path() is not None


def docx_to_pdf(docx: bytes, *, timeout: float = 120) -> bytes:
    """The PDF rendering of a .docx document, by LibreOffice; raises :class:`ConversionError`."""
    exe = soffice_path()
    if exe is None:
        raise ConversionError(INSTALL_HINT)
    if not docx.startswith(b"PK\x03\x04"):
        raise ConversionError("cannot make a PDF: the input is not a .docx document")
    with tempfile.TemporaryDirectory(prefix="rcm-pdf-") as tmp:
        work = Path(tmp)
        source = work / "document.docx"
        source.write_bytes(docx)
        outdir = work / "out"
        profile = work / "profile"
        env = dict(os.environ)
        if not env.get("HOME") or not os.access(env["HOME"], os.W_OK):
            env["HOME"] = str(work)
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            f"--infilter={_DOCX_FILTER}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(source),
        ]
        # A session of its own, so that a timeout kills soffice.bin too and not only the wrapper
        # script that started it.
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=work,
            env=env,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ConversionError(
                f"LibreOffice did not convert the document to PDF within {timeout:g} s"
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
        pdf = outdir / "document.pdf"
        data = pdf.read_bytes() if pdf.is_file() else b""
        if not data.startswith(b"%PDF"):
            tail = _tail(stderr) or _tail(stdout) or "(no output)"
            raise ConversionError(
                f"LibreOffice made no PDF (exit status {proc.returncode}): {tail}"
            )
        return data


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _tail(output: bytes) -> str:
    # javaldx's warning is printed on every run without Java and says nothing about this failure.
    lines = [
        line.strip()
        for line in output.decode("utf-8", "replace").splitlines()
        if line.strip() and "javaldx" not in line
    ]
    return " | ".join(lines[-_TAIL_LINES:])
