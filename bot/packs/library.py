"""The loaded packs. Replacing a pack is one dict assignment, so readers see the
old pack or the new one, never half of either."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .loader import LoadResult, load_pack_file
from .schema import Pack

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedPack:
    pack: Pack
    version: str
    origin: str


class PackLibrary:
    def __init__(self) -> None:
        self._packs: dict[str, LoadedPack] = {}

    def add(self, result: LoadResult) -> LoadedPack:
        if not result.ok:
            raise ValueError("a pack with errors is never loaded")
        loaded = LoadedPack(result.pack, result.version, result.file)
        self._packs[result.pack.id] = loaded
        return loaded

    def load_dir(self, folder: str | Path) -> list[LoadResult]:
        """Load every *.yaml pack in a folder; a broken file is logged and skipped."""
        results = []
        for path in sorted(Path(folder).glob("*.y*ml")):
            result = load_pack_file(path)
            results.append(result)
            if result.ok:
                self.add(result)
            else:
                log.error("pack %s not loaded:\n%s", path, result.report())
        return results

    def get(self, pack_id: str) -> Pack | None:
        loaded = self._packs.get(pack_id)
        return loaded.pack if loaded else None

    def version(self, pack_id: str) -> str | None:
        loaded = self._packs.get(pack_id)
        return loaded.version if loaded else None

    def ids(self) -> list[str]:
        return sorted(self._packs)

    def packs(self) -> list[Pack]:
        return [self._packs[i].pack for i in self.ids()]

    def __len__(self) -> int:
        return len(self._packs)
