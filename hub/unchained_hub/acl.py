"""POSIX ACLs that open a directory of the hub's to one other user.

The hub makes users' directories itself (tunnel endpoints, ticket caches), so
that no one can make them first, and then opens each to its user alone. The
kernel takes an ACL as an xattr in its own format: `set_access`/`set_default`
write one with the owner, one named user, and nobody else.
"""

import os
import struct

ACCESS, DEFAULT = "system.posix_acl_access", "system.posix_acl_default"
_VERSION = 2
_USER_OBJ, _USER, _GROUP_OBJ, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x10, 0x20
_NO_ID = 0xFFFFFFFF


def owner_and_user(uid, perms, owner_perms=7):
    """An ACL in the kernel's xattr format: the owner `owner_perms`, user `uid`
    `perms` (rwx bits), the group and others nothing."""
    entries = sorted([(_USER_OBJ, owner_perms, _NO_ID), (_USER, perms, int(uid)), (_GROUP_OBJ, 0, _NO_ID),
                      (_MASK, perms, _NO_ID), (_OTHER, 0, _NO_ID)], key=lambda e: (e[0], e[2]))
    return struct.pack("<I", _VERSION) + b"".join(struct.pack("<HHI", *e) for e in entries)


def set_access(path_or_fd, uid, perms=7):
    """Open the directory (a path, or an open descriptor) to its owner and `uid` alone."""
    os.setxattr(path_or_fd, ACCESS, owner_and_user(uid, perms))


def set_default(path, uid, perms):
    """What is created in the directory is open to its owner and `uid` alone."""
    os.setxattr(path, DEFAULT, owner_and_user(uid, perms, owner_perms=perms))
