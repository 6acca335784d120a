"""Evidence that holds up outside the portal (issue 14).

The sealed PDF proves itself to any reader: ``agreements.seal`` certifies it with a
trusted time and its validation data, ``agreements.pdf`` embeds the signed content.
This package keeps that evidence over the years and explains it:

- ``models``: ``ArchiveTimestamp``, each later version of a sealed PDF with a document
  timestamp over it (PAdES B-LTA);
- ``archive_timestamps``: adding one to a signed agreement's PDF, and the newest version;
- ``checks``: what a PDF proves by itself (seal, certification, timestamps, embedded
  content), checked with pyHanko and explained in German for the verify page.
"""
