"""The demo web: a seeded world of therapist directories and credential registries, served offline.

Generate a world, serve it on 127.0.0.1 and crawl it as if it were the real web::

    from crawler.demoweb import DemoWeb, generate_world

    world = generate_world("var/demoweb", seed=42, therapists=300)
    with DemoWeb.start(world) as web:        # free ports; or base_port=8700
        print(web.urls["atlas"])             # each site's base URL
    truth = GroundTruth(world.directory)     # who every listing really is (tests only)
"""

from crawler.demoweb.faults import FaultPlan
from crawler.demoweb.generator import DEFAULT_AS_OF, DIRECTORY_SITES, GenerationConfig
from crawler.demoweb.identifiers import is_valid_npi
from crawler.demoweb.mutation import mutate
from crawler.demoweb.server import MANIFEST_NAME, DemoWeb, serve
from crawler.demoweb.sites import SITE_NAMES
from crawler.demoweb.store import Population
from crawler.demoweb.truth import SUMMARY_NAME, TRUTH_NAME, GroundTruth
from crawler.demoweb.world import generate_world, open_world

__all__ = [
    "DEFAULT_AS_OF",
    "DIRECTORY_SITES",
    "MANIFEST_NAME",
    "SITE_NAMES",
    "SUMMARY_NAME",
    "TRUTH_NAME",
    "DemoWeb",
    "FaultPlan",
    "GenerationConfig",
    "GroundTruth",
    "Population",
    "generate_world",
    "is_valid_npi",
    "mutate",
    "open_world",
    "serve",
]
