//! Prints a development bearer token signed with `JWT_SECRET` (HS256).

use std::process::ExitCode;

use secrecy::SecretString;

fn main() -> ExitCode {
    let mut tenant = "demo".to_owned();
    let mut roles = Vec::new();
    let mut hours = 24;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--tenant", Some(value)) => tenant = value,
            ("--role", Some(value)) => roles.push(value),
            ("--hours", Some(value)) => hours = value.parse().unwrap_or(24),
            _ => {
                eprintln!(
                    "usage: dev-token [--tenant T] [--role admin|operator|viewer]... [--hours H]"
                );
                return ExitCode::from(2);
            }
        }
    }
    if roles.is_empty() {
        roles.push("admin".to_owned());
    }
    let Ok(secret) = std::env::var("JWT_SECRET") else {
        eprintln!("JWT_SECRET is not set");
        return ExitCode::from(2);
    };
    let auth = platform::Authenticator::hs256(SecretString::from(secret));
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    match auth.mint("developer", &tenant, &roles, hours * 3_600) {
        Some(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        None => ExitCode::FAILURE,
    }
}
