import io
import os
import subprocess
import sys
from pathlib import Path

import pypdf

from civilaffairs.pdf import CJK_FAMILY, render_pdf

TITLE = "五五快报 2026年第15期"
BODY = "广州市民政局五·五专项工作办公室：防寒庇护站消防通道堵塞，已现场整改。"


def _fonts(reader):
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            names.add(str(font["/BaseFont"]))
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                # An embedded font carries its program in one of these streams.
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return names


def test_chinese_pdf_embeds_a_cjk_font_and_text_extracts_back():
    html = (
        f"<html><body style='font-family: {CJK_FAMILY}'><h1>{TITLE}</h1><p>{BODY}</p></body></html>"
    )
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(html)))
    text = reader.pages[0].extract_text()
    assert TITLE in text
    assert BODY in text.replace("\n", "")
    assert any("CJK" in name for name in _fonts(reader)), _fonts(reader)


def test_package_font_alone_is_enough(tmp_path):
    """Without any system CJK font (a machine with no root), the PyPI font package suffices."""
    import noto_cjk_sans_otc

    font_dir = Path(noto_cjk_sans_otc.__file__).parent
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{font_dir}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    script = (
        "import io, pypdf\n"
        "from weasyprint import HTML\n"
        f"pdf = HTML(string='<p style=\"font-family: Noto Sans CJK SC\">{TITLE}</p>').write_pdf()\n"
        "r = pypdf.PdfReader(io.BytesIO(pdf))\n"
        "print(r.pages[0].extract_text().strip())\n"
        "fonts = r.pages[0]['/Resources']['/Font'].values()\n"
        "print([str(f.get_object()['/BaseFont']) for f in fonts])\n"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert TITLE in out
    assert "Noto-Sans-CJK-SC" in out
