"""The client search page: where, how far, what for; results as a list and on a map.

Every string that came from a crawled page is shown through ``st.text``/dataframes, never as
markdown or HTML, so a listing cannot inject markup.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from indexer.geocode import PlaceNotFoundError, geocode_place
from indexer.search import BackendError, QueryError, SearchBackend, SearchQuery, open_backend
from indexer.search.query import SortOrder
from indexer.taxonomy import load_taxonomy

KM_PER_MILE = 1.609344


@st.cache_resource
def backend() -> SearchBackend:
    """The configured search backend, shared by every session."""
    return open_backend()


def main() -> None:
    """Render the search page."""
    st.set_page_config(page_title="tdir — find a licensed therapist", layout="wide")
    taxonomy = load_taxonomy()
    params = st.query_params
    st.title("Find a licensed massage or neuromuscular therapist")
    with st.sidebar:
        where = st.text_input("Where", params.get("near", ""), placeholder="78704 or Austin, TX")
        miles = st.slider("Within (miles)", 1, 100, int(params.get("radius", 25)))
        text = st.text_input("Search", params.get("q", ""), placeholder="name, technique…")
        modality_ids = taxonomy.ids("modality")
        modalities = st.multiselect(
            "Modality",
            modality_ids,
            default=[m for m in params.get_all("modality") if m in modality_ids],
            format_func=lambda m: taxonomy.label("modality", m),
        )
        verified_only = st.checkbox("Verified license only", params.get("verified") == "1")
        sort = st.selectbox(
            "Sort by",
            [s.value for s in SortOrder],
            index=[s.value for s in SortOrder].index(params.get("sort", "relevance")),
        )
    st.query_params.from_dict(
        {
            "near": where,
            "radius": str(miles),
            "q": text,
            "modality": modalities,
            "verified": "1" if verified_only else "0",
            "sort": sort,
        }
    )
    point = None
    if where.strip():
        try:
            point = geocode_place(where).point
        except PlaceNotFoundError as exc:
            st.error(f"Where: {exc}")
            return
    try:
        query = SearchQuery(
            text=text,
            near=point,
            radius_km=miles * KM_PER_MILE if point else None,
            modalities=tuple(modalities),
            verified_only=verified_only,
            sort=sort if point or sort != "distance" else "relevance",
            page_size=50,
        )
        result = backend().search(query)
    except QueryError as exc:
        st.error(f"{exc.field}: {exc.message}")
        return
    except BackendError as exc:
        st.error(f"The search service is unavailable: {exc}")
        return
    st.subheader(f"{result.total} therapist{'s' if result.total != 1 else ''}")
    if not result.hits:
        st.info("No therapist matches. Try a wider radius or fewer filters.")
        return
    rows = []
    for hit in result.hits:
        profile = hit.profile
        rating = profile.get("rating") or {}
        location = (profile.get("locations") or [{}])[0]
        rows.append(
            {
                "Name": profile.get("name"),
                "Practice": profile.get("practice_name"),
                "Miles": None
                if hit.distance_km is None
                else round(hit.distance_km / KM_PER_MILE, 1),
                "Rating": rating.get("combined"),
                "Reviews": rating.get("review_count", 0),
                "Verified": any(
                    c.get("status") == "verified" for c in profile.get("credentials", [])
                ),
                "Modalities": ", ".join(
                    taxonomy.label("modality", m) for m in profile.get("modalities", [])
                ),
                "lat": location.get("lat"),
                "lon": location.get("lon"),
            }
        )
    frame = pd.DataFrame(rows)
    st.dataframe(frame.drop(columns=["lat", "lon"]), hide_index=True, width="stretch")
    located = frame.dropna(subset=["lat", "lon"])
    if not located.empty:
        st.map(located, latitude="lat", longitude="lon")


main()
