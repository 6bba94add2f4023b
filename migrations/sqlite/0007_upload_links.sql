-- The link token of a session waiting for a phone, sealed with the field key (AES-GCM, the
-- session id as context): the PC's QR code can be drawn again after a restart and by any
-- instance, while lookups still go by the token's hash alone. Cleared once a phone opened
-- the link or the session ended; a refresh replaces it with the new token's.
ALTER TABLE upload_sessions ADD COLUMN link_sealed TEXT;
