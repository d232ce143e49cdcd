//! Windows time zone ids (what ADF's `convertFromUtc`, `convertToUtc` and `convertTimeZone`
//! take) mapped to IANA zones, and conversions between UTC and a zone's local time.
//!
//! The table holds every `territory="001"` mapping of CLDR
//! `common/supplemental/windowsZones.xml` (unicode-org/cldr, the version with
//! `typeVersion="2021a"`). Ids match case-insensitively; a second pass also ignores the
//! punctuation `.`, `(`, `)`, `,` and `'` and repeated spaces, because the ADF docs say "you
//! might have to remove any punctuation from the time zone name" (EXPR `convertFromUtc`).
//! `+` and `-` are kept: `UTC+12` and `UTC-11` are different zones.
//!
//! Windows keeps its own history of rule changes; IANA's (through chrono-tz) is used here, so
//! results for dates long past may differ from Windows. Current rules agree.

use chrono::{LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::{OffsetComponents, Tz};

use super::dotnet_format::{DateTime, Kind, TICKS_PER_DAY, TICKS_PER_SECOND};

/// Windows id → IANA id: the CLDR `001` mappings, in CLDR's order (by UTC offset).
pub(super) const WINDOWS_TO_IANA: &[(&str, &str)] = &[
    ("Dateline Standard Time", "Etc/GMT+12"),
    ("UTC-11", "Etc/GMT+11"),
    ("Aleutian Standard Time", "America/Adak"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Marquesas Standard Time", "Pacific/Marquesas"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("UTC-09", "Etc/GMT+9"),
    ("Pacific Standard Time (Mexico)", "America/Tijuana"),
    ("UTC-08", "Etc/GMT+8"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Mountain Standard Time (Mexico)", "America/Mazatlan"),
    ("Mountain Standard Time", "America/Denver"),
    ("Yukon Standard Time", "America/Whitehorse"),
    ("Central America Standard Time", "America/Guatemala"),
    ("Central Standard Time", "America/Chicago"),
    ("Easter Island Standard Time", "Pacific/Easter"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
    ("Canada Central Standard Time", "America/Regina"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("Eastern Standard Time (Mexico)", "America/Cancun"),
    ("Eastern Standard Time", "America/New_York"),
    ("Haiti Standard Time", "America/Port-au-Prince"),
    ("Cuba Standard Time", "America/Havana"),
    ("US Eastern Standard Time", "America/Indianapolis"),
    ("Turks And Caicos Standard Time", "America/Grand_Turk"),
    ("Paraguay Standard Time", "America/Asuncion"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("Venezuela Standard Time", "America/Caracas"),
    ("Central Brazilian Standard Time", "America/Cuiaba"),
    ("SA Western Standard Time", "America/La_Paz"),
    ("Pacific SA Standard Time", "America/Santiago"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("Tocantins Standard Time", "America/Araguaina"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("SA Eastern Standard Time", "America/Cayenne"),
    ("Argentina Standard Time", "America/Buenos_Aires"),
    ("Greenland Standard Time", "America/Godthab"),
    ("Montevideo Standard Time", "America/Montevideo"),
    ("Magallanes Standard Time", "America/Punta_Arenas"),
    ("Saint Pierre Standard Time", "America/Miquelon"),
    ("Bahia Standard Time", "America/Bahia"),
    ("UTC-02", "Etc/GMT+2"),
    ("Azores Standard Time", "Atlantic/Azores"),
    ("Cape Verde Standard Time", "Atlantic/Cape_Verde"),
    ("UTC", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("Sao Tome Standard Time", "Africa/Sao_Tome"),
    ("Morocco Standard Time", "Africa/Casablanca"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("W. Central Africa Standard Time", "Africa/Lagos"),
    ("Jordan Standard Time", "Asia/Amman"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Middle East Standard Time", "Asia/Beirut"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("Syria Standard Time", "Asia/Damascus"),
    ("West Bank Standard Time", "Asia/Hebron"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("South Sudan Standard Time", "Africa/Juba"),
    ("Kaliningrad Standard Time", "Europe/Kaliningrad"),
    ("Sudan Standard Time", "Africa/Khartoum"),
    ("Libya Standard Time", "Africa/Tripoli"),
    ("Namibia Standard Time", "Africa/Windhoek"),
    ("Arabic Standard Time", "Asia/Baghdad"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Arab Standard Time", "Asia/Riyadh"),
    ("Belarus Standard Time", "Europe/Minsk"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("E. Africa Standard Time", "Africa/Nairobi"),
    ("Iran Standard Time", "Asia/Tehran"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Astrakhan Standard Time", "Europe/Astrakhan"),
    ("Azerbaijan Standard Time", "Asia/Baku"),
    ("Russia Time Zone 3", "Europe/Samara"),
    ("Mauritius Standard Time", "Indian/Mauritius"),
    ("Saratov Standard Time", "Europe/Saratov"),
    ("Georgian Standard Time", "Asia/Tbilisi"),
    ("Volgograd Standard Time", "Europe/Volgograd"),
    ("Caucasus Standard Time", "Asia/Yerevan"),
    ("Afghanistan Standard Time", "Asia/Kabul"),
    ("West Asia Standard Time", "Asia/Tashkent"),
    ("Ekaterinburg Standard Time", "Asia/Yekaterinburg"),
    ("Pakistan Standard Time", "Asia/Karachi"),
    ("Qyzylorda Standard Time", "Asia/Qyzylorda"),
    ("India Standard Time", "Asia/Calcutta"),
    ("Sri Lanka Standard Time", "Asia/Colombo"),
    ("Nepal Standard Time", "Asia/Katmandu"),
    ("Central Asia Standard Time", "Asia/Bishkek"),
    ("Bangladesh Standard Time", "Asia/Dhaka"),
    ("Omsk Standard Time", "Asia/Omsk"),
    ("Myanmar Standard Time", "Asia/Rangoon"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("Altai Standard Time", "Asia/Barnaul"),
    ("W. Mongolia Standard Time", "Asia/Hovd"),
    ("North Asia Standard Time", "Asia/Krasnoyarsk"),
    ("N. Central Asia Standard Time", "Asia/Novosibirsk"),
    ("Tomsk Standard Time", "Asia/Tomsk"),
    ("China Standard Time", "Asia/Shanghai"),
    ("North Asia East Standard Time", "Asia/Irkutsk"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("Taipei Standard Time", "Asia/Taipei"),
    ("Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"),
    ("Aus Central W. Standard Time", "Australia/Eucla"),
    ("Transbaikal Standard Time", "Asia/Chita"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("North Korea Standard Time", "Asia/Pyongyang"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("Yakutsk Standard Time", "Asia/Yakutsk"),
    ("Cen. Australia Standard Time", "Australia/Adelaide"),
    ("AUS Central Standard Time", "Australia/Darwin"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("West Pacific Standard Time", "Pacific/Port_Moresby"),
    ("Tasmania Standard Time", "Australia/Hobart"),
    ("Vladivostok Standard Time", "Asia/Vladivostok"),
    ("Lord Howe Standard Time", "Australia/Lord_Howe"),
    ("Bougainville Standard Time", "Pacific/Bougainville"),
    ("Russia Time Zone 10", "Asia/Srednekolymsk"),
    ("Magadan Standard Time", "Asia/Magadan"),
    ("Norfolk Standard Time", "Pacific/Norfolk"),
    ("Sakhalin Standard Time", "Asia/Sakhalin"),
    ("Central Pacific Standard Time", "Pacific/Guadalcanal"),
    ("Russia Time Zone 11", "Asia/Kamchatka"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("UTC+12", "Etc/GMT-12"),
    ("Fiji Standard Time", "Pacific/Fiji"),
    ("Chatham Islands Standard Time", "Pacific/Chatham"),
    ("UTC+13", "Etc/GMT-13"),
    ("Tonga Standard Time", "Pacific/Tongatapu"),
    ("Samoa Standard Time", "Pacific/Apia"),
    ("Line Islands Standard Time", "Pacific/Kiritimati"),
];

/// Ids accepted besides the CLDR table: "Coordinated Universal Time" (the display name of
/// `UTC`), and two legacy Windows ids that older Windows installations still list and older
/// CLDR versions mapped (unverified for ADF).
const EXTRA_IDS: &[(&str, &str)] = &[
    ("Coordinated Universal Time", "Etc/UTC"),
    ("Mid-Atlantic Standard Time", "Etc/GMT+2"),
    ("Kamchatka Standard Time", "Asia/Kamchatka"),
];

/// A resolved time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Zone {
    /// UTC itself: conversions to it give values of the UTC kind (printed with `Z`).
    Utc,
    /// Any other zone.
    Iana(Tz),
}

/// Lower-cases and drops the punctuation the ADF docs say may be removed.
fn normalize(id: &str) -> String {
    let kept: String = id
        .chars()
        .filter(|c| !matches!(c, '.' | '(' | ')' | ',' | '\''))
        .flat_map(char::to_lowercase)
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The IANA id for a Windows id (case-insensitive, then ignoring punctuation).
pub(super) fn iana_for(windows_id: &str) -> Option<&'static str> {
    let id = windows_id.trim();
    let all = || WINDOWS_TO_IANA.iter().chain(EXTRA_IDS.iter());
    if let Some((_, iana)) = all().find(|(w, _)| w.eq_ignore_ascii_case(id)) {
        return Some(iana);
    }
    let wanted = normalize(id);
    all()
        .find(|(w, _)| normalize(w) == wanted)
        .map(|(_, iana)| *iana)
}

/// Resolves a Windows id. `Err` carries a reason for the user.
pub(super) fn resolve(windows_id: &str) -> Result<Zone, String> {
    let Some(iana) = iana_for(windows_id) else {
        let hint = WINDOWS_TO_IANA
            .iter()
            .find(|(_, iana)| iana.eq_ignore_ascii_case(windows_id.trim()))
            .map(|(w, _)| {
                format!(
                    " ('{}' is an IANA id; its Windows id is '{w}')",
                    windows_id.trim()
                )
            })
            .unwrap_or_default();
        return Err(format!(
            "unknown time zone '{windows_id}'{hint}; use a Windows time zone id such as \
             'Pacific Standard Time', 'W. Europe Standard Time' or 'UTC'"
        ));
    };
    if iana == "Etc/UTC" {
        return Ok(Zone::Utc);
    }
    iana.parse::<Tz>()
        .map(Zone::Iana)
        .map_err(|_| format!("time zone '{windows_id}' ({iana}) is not in the time zone database"))
}

/// The clock time of `value` as a chrono date-time (for zone rules).
fn to_naive(value: DateTime) -> Option<NaiveDateTime> {
    let ticks = value.ticks();
    let days = ticks.div_euclid(TICKS_PER_DAY);
    let time = ticks.rem_euclid(TICKS_PER_DAY);
    let date = NaiveDate::from_num_days_from_ce_opt(i32::try_from(days.checked_add(1)?).ok()?)?;
    let secs = u32::try_from(time / TICKS_PER_SECOND).ok()?;
    let nanos = u32::try_from(time % TICKS_PER_SECOND * 100).ok()?;
    let clock = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)?;
    Some(date.and_time(clock))
}

/// Seconds → ticks.
fn offset_ticks(seconds: i32) -> i64 {
    i64::from(seconds) * TICKS_PER_SECOND
}

/// Converts a UTC clock time to the zone's local time. The result has the UTC kind when the
/// zone is UTC, else the unspecified kind (as .NET's `TimeZoneInfo.ConvertTime` gives).
/// `Err` carries a reason.
pub(super) fn from_utc(value: DateTime, zone: Zone) -> Result<DateTime, String> {
    match zone {
        Zone::Utc => Ok(value.with_kind(Kind::Utc)),
        Zone::Iana(tz) => {
            let naive = to_naive(value).ok_or_else(|| out_of_range(value))?;
            let offset = tz.offset_from_utc_datetime(&naive).fix().local_minus_utc();
            value
                .with_kind(Kind::Unspecified)
                .add_ticks(offset_ticks(offset))
                .ok_or_else(|| out_of_range(value))
        }
    }
}

/// Converts a local time of the zone to UTC (the UTC kind). A time skipped by a daylight
/// saving change is an error (as in .NET); an ambiguous time is read as standard time (as
/// .NET does). `Err` carries a reason.
pub(super) fn to_utc(value: DateTime, zone: Zone, zone_id: &str) -> Result<DateTime, String> {
    match zone {
        Zone::Utc => Ok(value.with_kind(Kind::Utc)),
        Zone::Iana(tz) => {
            let naive = to_naive(value).ok_or_else(|| out_of_range(value))?;
            let offset = match tz.offset_from_local_datetime(&naive) {
                LocalResult::Single(o) => o,
                LocalResult::Ambiguous(a, b) => {
                    if b.dst_offset().is_zero() && !a.dst_offset().is_zero() {
                        b
                    } else {
                        a
                    }
                }
                LocalResult::None => {
                    return Err(format!(
                        "{} does not exist in '{zone_id}' (the clocks skip it when daylight \
                         saving time starts)",
                        naive.format("%Y-%m-%dT%H:%M:%S")
                    ));
                }
            };
            let seconds = offset.fix().local_minus_utc();
            value
                .with_kind(Kind::Utc)
                .add_ticks(-offset_ticks(seconds))
                .ok_or_else(|| out_of_range(value))
        }
    }
}

/// The reason for a conversion that leaves the valid range.
fn out_of_range(value: DateTime) -> String {
    format!(
        "converting the time ({} ticks) leaves the range 0001-01-01..9999-12-31",
        value.ticks()
    )
}
