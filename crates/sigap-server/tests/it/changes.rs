//! Change management over HTTP.
