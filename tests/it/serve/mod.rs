//! `quiver serve` against real Flight clients: pyarrow.flight and the ADBC Flight SQL driver.

mod clients;
mod harness;
mod limits;
mod relay;
mod security;
