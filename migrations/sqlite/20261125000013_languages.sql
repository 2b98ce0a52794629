-- Languages and time zones: a member's own choice (NULL: not chosen), and the language the
-- agency set for a portal (NULL: each browser's). Changing either moves the 'directory' counter
-- through the existing triggers, so every instance reads the new choice on the next request.
ALTER TABLE members ADD COLUMN locale TEXT;
ALTER TABLE members ADD COLUMN time_zone TEXT;
ALTER TABLE portals ADD COLUMN language TEXT;
