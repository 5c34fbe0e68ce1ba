//! Referral use cases. Each one authorises (care team, referrer, provider or the person),
//! validates, changes and audits in one transaction, and queues any email or reminder in
//! the same transaction.
//!
//! Who sees what:
//! * the **care team** — link workers of the referral's team organisation — sees and works
//!   the whole record;
//! * the **referrer** sees the status of referrals they made and the message back;
//! * the **provider** — programme managers and practitioners of the organisation running the
//!   chosen activity — sees only what it needs to welcome the person;
//! * the **person** sees their own plan.
//!
//! The use cases are grouped by sub-domain in the files below; everything public is
//! re-exported here, so callers name `referrals::service::…`.

mod access;
mod barriers;
mod casework;
mod common;
mod electronic;
mod intake;
mod lists;
mod matching;
mod message_back;
mod options;
mod provider;
mod reminders;

pub use access::*;
pub use barriers::*;
pub use casework::*;
use common::*;
pub use electronic::*;
pub use intake::*;
pub use lists::*;
pub use matching::*;
pub use message_back::*;
pub use options::*;
pub use provider::*;
pub use reminders::*;
