-- What OCR read on a material (name, ID number, address, ...) and the cross-check flags with
-- their values: personal data, so AES-256-GCM ciphertext bound to the material id, never JSON
-- in the clear. The verdict column keeps only field names, confidences and flag codes.
ALTER TABLE materials ADD COLUMN reading TEXT;
