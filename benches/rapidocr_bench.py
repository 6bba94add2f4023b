"""Times the RapidOCR Python pipeline (rapidocr 3.10.0, its default PP-OCRv6 small models on
ONNX Runtime 1.31.1) on the given images: python3 rapidocr_bench.py RUNS IMAGE..."""

import json
import statistics
import sys
import time

from rapidocr import RapidOCR


def main() -> None:
    runs = int(sys.argv[1])
    engine = RapidOCR(params={"Global.log_level": "error"})
    out = {}
    for path in sys.argv[2:]:
        result = engine(path)  # warm-up (first-run allocations)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            result = engine(path)
            times.append((time.perf_counter() - start) * 1000.0)
        out[path] = {
            "median_ms": statistics.median(times),
            "lines": len(result.txts or ()),
            "texts": list(result.txts or ()),
        }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
