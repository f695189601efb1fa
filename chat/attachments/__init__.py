"""Attachments of messages: photos and voice notes, checked by content, stored, served.

`files` (what a file really is, storing it), `images` (re-encoding photos), `views` (the
upload routes and serving local files), `ranges` (byte ranges for players), `refusals`,
and `cloudinary_storage`.
"""
