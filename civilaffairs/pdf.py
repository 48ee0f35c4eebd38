"""PDF rendering with WeasyPrint and an embedded CJK font.

Set-up installs the PyPI package ``noto-cjk-sans-otc`` (Noto Sans CJK, no root needed); where
Debian's fonts-noto-cjk is installed (CI, Docker) fontconfig finds that too. Before WeasyPrint is
imported we point fontconfig at a small config that adds the package's font directory to the
system configuration, so ``font-family: "Noto Sans CJK SC"`` resolves everywhere."""

import os
from functools import cache
from pathlib import Path

CJK_FAMILY = '"Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", sans-serif'
# 仿宋-style body text for official documents: a Song/Fangsong face when the machine has one,
# else Noto Sans CJK, which set-up guarantees.
OFFICIAL_FAMILY = '"FangSong", "FangSong_GB2312", "Noto Serif CJK SC", "Noto Sans CJK SC", serif'


def _package_font_dir() -> Path | None:
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    return Path(noto_cjk_sans_otc.__file__).resolve().parent


@cache
def configure_fonts() -> None:
    font_dir = _package_font_dir()
    if font_dir is None or os.environ.get("FONTCONFIG_FILE"):
        return
    from civilaffairs.embedded import VAR_DIR

    conf_dir = VAR_DIR / "fontconfig"
    conf_dir.mkdir(parents=True, exist_ok=True)
    conf = conf_dir / "fonts.conf"
    system_conf = "/etc/fonts/fonts.conf"
    include = f'<include ignore_missing="yes">{system_conf}</include>'
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  {include}\n  <dir>{font_dir}</dir>\n"
        f"  <cachedir>{conf_dir / 'cache'}</cachedir>\n</fontconfig>\n"
    )
    if not conf.exists() or conf.read_text() != text:
        conf.write_text(text)
    os.environ["FONTCONFIG_FILE"] = str(conf)


def render_pdf(html: str, base_url: str | None = None, stylesheets=None) -> bytes:
    configure_fonts()
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf(stylesheets=stylesheets)
