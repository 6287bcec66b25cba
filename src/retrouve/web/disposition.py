"""``Content-Disposition`` headers that no file name can break (RFC 6266 / RFC 8187).

A recording's file name comes from the footage share: it may hold quotes, semicolons, CR/LF or
any Unicode. Header values are latin-1 and a CR/LF would end the header (response splitting,
or a broken download), so the name is given twice: ``filename*=UTF-8''…`` percent-encoded
(exact, for browsers that read it) and ``filename="…"`` with a sanitised ASCII fallback.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal
from urllib.parse import quote

#: Characters kept in the ASCII fallback; anything else becomes ``_``.
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._\- ()+,=@\[\]]")
_MAX_NAME: Final = 200


def ascii_fallback(name: str, default: str = "download") -> str:
    """``name`` as a safe quoted-string body: accents stripped, control characters, quotes,
    backslashes, slashes and other specials replaced by ``_``, at most 200 characters."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    safe = _UNSAFE.sub("_", plain).strip(" .")
    return safe[:_MAX_NAME] or default


def content_disposition(name: str, kind: Literal["inline", "attachment"] = "inline") -> str:
    """The header value for a file called ``name`` (its base name is taken by the caller)."""
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")[:_MAX_NAME]
    encoded = quote(name, safe="")
    return f"{kind}; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"
