"""Reading a rendered page as a person sees it: its tags, h2 headings, links and visible text."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class Page(HTMLParser):
    """A page's tags, its h2 headings, its links and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.headings: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self._in_h2 = self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_h2 = self._in_h2 or tag == "h2"
        self._in_style = tag == "style"
        self.links += [value for name, value in attrs if tag == "a" and name == "href"]

    def handle_endtag(self, tag):
        self._in_h2 = self._in_h2 and tag != "h2"
        self._in_style = False

    def handle_data(self, data):
        if self._in_h2 and data.strip():
            self.headings.append(data.strip())
        if not getattr(self, "_in_style", False):
            self.text.append(data)

    @property
    def words(self) -> str:
        """The visible text, one space between words (none before a closing mark)."""
        return re.sub(r" ([),，）:：])", r"\1", " ".join(" ".join(self.text).split()))
