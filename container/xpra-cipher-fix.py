"""Make forky's Xpra 3.1.5 work with its python3-cryptography.

Xpra sets `encrypt`/`decrypt` attributes on cryptography's cipher contexts,
which are Rust objects that take no new attributes in current releases, so
every AES connection fails ("object has no attribute 'encrypt'") and
jupyter-xprahtml5-proxy, which always asks for AES, gets no desktop. This
wraps the contexts instead. Run once while the image is built; it fails the
build if Xpra's code is not what it expects (a fixed Xpra needs no fix).
"""

from pathlib import Path

import xpra.net.pycryptography_backend as backend

FIXES = (
    ("    encryptor.encrypt = encryptor.update\n    return encryptor\n",
     "    return _CipherContext(encryptor)\n"),
    ("    if supports_memoryviews:\n        decryptor.decrypt = decryptor.update\n",
     "    if supports_memoryviews:\n        return _CipherContext(decryptor)\n"),
)
WRAPPER = '''

class _CipherContext:
    """A cipher context with Xpra's method names (added in the job image)."""

    def __init__(self, context):
        self.update = context.update
        self.finalize = context.finalize
        self.encrypt = self.decrypt = context.update
'''

path = Path(backend.__file__)
source = path.read_text()
for old, new in FIXES:
    if source.count(old) != 1:
        raise SystemExit(f"xpra-cipher-fix: {path} has changed; check whether the fix is still needed")
    source = source.replace(old, new)
path.write_text(source + WRAPPER)
