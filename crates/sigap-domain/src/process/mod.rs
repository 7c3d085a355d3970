//! Each process's own rules: its states and the values only it has. What every task has
//! lives in `crate::task`.

pub mod article;
pub mod change;
pub mod incident;
pub mod problem;
pub mod request;
