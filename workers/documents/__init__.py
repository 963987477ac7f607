"""The PDF documents of a dossier, one module per form (Circular 01/2018/TT-VPCP and its successor 03/2025).

``pdf`` holds the page furniture every form shares (font, national-motto header, paragraphs, tables, the QR
code of the status page, signature blocks), ``base`` the variable checks and the :class:`base.Form`
description; ``receipt`` (Form 01), ``supplement`` (02), ``refusal`` (03), ``apology`` (04), ``stop`` (05)
and ``result`` (the result record) each describe one document. ``workers.document`` dispatches on the
task's ``document_kind``.
"""
