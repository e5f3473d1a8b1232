"""Unchained Hub: JupyterHub on an HTCondor pool whose workers accept no inbound connection."""

__version__ = "0.1.0"
