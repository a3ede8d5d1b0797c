"""Which schema.org types describe a therapist or a practice, and which never do.

The LocalBusiness and MedicalOrganization subtrees are listed in full so that a site using any
subtype (a ``DaySpa``, a ``Physiotherapy`` clinic, an ``IndividualPhysician``) is understood
without code changes. A type this module does not know is judged by its shape instead (see
:func:`is_listing_type`), so vocabulary added to schema.org later still works.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _names(*groups: str) -> frozenset[str]:
    """Return the type names written space-separated in ``groups``."""
    return frozenset(name for group in groups for name in group.split())


PERSON_TYPES = frozenset({"Person"})
# Business types that describe one practitioner rather than a practice.
INDIVIDUAL_TYPES = frozenset({"Person", "IndividualPhysician"})

# schema.org LocalBusiness and its subtypes (vocabulary release 29/30).
BUSINESS_TYPES = _names(
    "LocalBusiness AnimalShelter ArchiveOrganization ChildCare DryCleaningOrLaundry",
    "EmploymentAgency InternetCafe Library ProfessionalService RadioStation RealEstateAgent",
    "RecyclingCenter SelfStorage ShoppingCenter TelevisionStation TouristInformationCenter",
    "TravelAgency",
    # AutomotiveBusiness
    "AutomotiveBusiness AutoBodyShop AutoDealer AutoPartsStore AutoRental AutoRepair",
    "AutoWash GasStation MotorcycleDealer MotorcycleRepair",
    # EmergencyService
    "EmergencyService FireStation Hospital PoliceStation",
    # EntertainmentBusiness
    "EntertainmentBusiness AdultEntertainment AmusementPark ArtGallery Casino ComedyClub",
    "MovieTheater NightClub",
    # FinancialService
    "FinancialService AccountingService AutomatedTeller BankOrCreditUnion InsuranceAgency",
    # FoodEstablishment
    "FoodEstablishment Bakery BarOrPub Brewery CafeOrCoffeeShop Distillery",
    "FastFoodRestaurant IceCreamShop Restaurant Winery",
    # GovernmentOffice
    "GovernmentOffice PostOffice",
    # HealthAndBeautyBusiness: where most massage practices are typed
    "HealthAndBeautyBusiness BeautySalon DaySpa HairSalon HealthClub NailSalon TattooParlor",
    # HomeAndConstructionBusiness
    "HomeAndConstructionBusiness Electrician GeneralContractor HVACBusiness HousePainter",
    "Locksmith MovingCompany Plumber RoofingContractor",
    # LegalService
    "LegalService Attorney Notary",
    # LodgingBusiness
    "LodgingBusiness BedAndBreakfast Campground Hostel Hotel Motel Resort SkiResort",
    "VacationRental",
    # MedicalBusiness (also a MedicalOrganization)
    "MedicalBusiness CommunityHealth Dentist Dermatology DietNutrition Emergency Geriatric",
    "Gynecologic MedicalClinic CovidTestingFacility Midwifery Nursing Obstetric Oncologic",
    "Optician Optometric Otolaryngologic Pediatric Pharmacy Physician IndividualPhysician",
    "PhysiciansOffice Physiotherapy PlasticSurgery Podiatric PrimaryCare Psychiatric",
    "PublicHealth",
    # SportsActivityLocation
    "SportsActivityLocation BowlingAlley ExerciseGym GolfCourse PublicSwimmingPool",
    "SportsClub StadiumOrArena TennisComplex",
    # Store
    "Store BikeStore BookStore ClothingStore ComputerStore ConvenienceStore DepartmentStore",
    "ElectronicsStore Florist FurnitureStore GardenStore GroceryStore HardwareStore",
    "HobbyShop HomeGoodsStore JewelryStore LiquorStore MensClothingStore MobilePhoneStore",
    "MovieRentalStore MusicStore OfficeEquipmentStore OutletStore PawnShop PetStore",
    "ShoeStore SportingGoodsStore TireShop ToyStore WholesaleStore",
    # MedicalOrganization and its subtypes that are not LocalBusinesses
    "MedicalOrganization DiagnosticLab VeterinaryCare",
)

# Types that describe things around a listing, never a listing: an unknown-shape check must not
# turn the directory's own Organization, a web page or a review author into a therapist.
NON_LISTING_TYPES = _names(
    "Organization Corporation NGO EducationalOrganization CollegeOrUniversity School",
    "WebSite WebPage ProfilePage AboutPage ContactPage CollectionPage SearchResultsPage",
    "ItemPage BreadcrumbList ItemList ListItem SiteNavigationElement WPHeader WPFooter",
    "SearchAction ImageObject VideoObject Article BlogPosting NewsArticle FAQPage Question",
    "Answer Product Service Offer AggregateOffer OfferCatalog Event Review Rating",
    "AggregateRating PostalAddress GeoCoordinates OpeningHoursSpecification ContactPoint",
    "PropertyValue DefinedTerm EducationalOccupationalCredential Credential Occupation Role",
    "AdministrativeArea State City Country Brand Thing",
)

CREDENTIAL_TYPES = frozenset({"EducationalOccupationalCredential", "Credential"})
REVIEW_TYPES = frozenset({"Review", "EmployerReview", "CriticReview", "UserReview"})
# What a practice offers. Search engines do not show a business's ratings of itself, so sites
# often put a practitioner's reviews and aggregate rating on the service they offer instead.
OFFERING_TYPES = frozenset({"Service", "Product", "IndividualProduct", "ProductModel"})

_SEQUENCE = list | tuple  # built once: a union written in a call is built on every call

# Properties whose presence marks an unknown type as a place someone can be found at.
_LOCATION_PROPERTIES = ("address", "geo", "telephone")


def short_type(raw: Any) -> str | None:
    """Return the bare schema.org type name of ``raw``.

    ``"https://schema.org/DaySpa"``, ``"schema:DaySpa"`` and ``"DaySpa"`` all give ``"DaySpa"``.
    """
    if not isinstance(raw, str) or not raw.strip():
        return None
    name = raw.strip().rstrip("/")
    for sep in ("/", "#", ":"):
        if sep in name:
            name = name.rsplit(sep, 1)[1]
    return name or None


def short_types(raw: Any) -> list[str]:
    """Return the bare type names of an ``@type`` value, which may be a string or a list."""
    if isinstance(raw, str) and raw.isalnum():  # a bare name already: what short_type returns
        return [raw]
    values: Iterable[Any] = raw if isinstance(raw, _SEQUENCE) else [raw]
    names = [short_type(v) for v in values]
    return [n for n in names if n]


def is_person(types: Iterable[str]) -> bool:
    """Return whether any of ``types`` is a Person."""
    return not PERSON_TYPES.isdisjoint(types)


def is_individual(types: Iterable[str]) -> bool:
    """Return whether a node of these types is one practitioner (a Person or the like)."""
    return not INDIVIDUAL_TYPES.isdisjoint(types)


def is_business(types: Iterable[str]) -> bool:
    """Return whether any of ``types`` is a LocalBusiness or MedicalOrganization subtype."""
    return not BUSINESS_TYPES.isdisjoint(types)


def is_listing_type(types: Iterable[str], node: Mapping[str, Any]) -> bool:
    """Return whether a node of these types is a therapist or practice listing.

    Known person and business types always are; known auxiliary types never are; a type this
    module does not know is a listing when it has a name and somewhere to be found.
    """
    types = list(types)
    if is_person(types) or is_business(types):
        return True
    unknown = [t for t in types if t not in NON_LISTING_TYPES]
    if not unknown:
        return False
    lowered = {k.lower() for k in node}
    return "name" in lowered and any(p in lowered for p in _LOCATION_PROPERTIES)
