//! The one assertion of a refusal as the typed client reports it.

use mcpreg_api::Problem;
use mcpreg_api::problem::ProblemCode;
use mcpreg_client::ClientError;

/// Asserts that a call was refused with this status and a problem document of this stable code
/// (its `type` the code's URN, its `detail` saying what went wrong), and returns the problem.
#[track_caller]
pub fn expect_problem<T: std::fmt::Debug>(
    result: mcpreg_client::Result<T>,
    status: u16,
    code: ProblemCode,
) -> Problem {
    let failure = match result {
        Ok(answer) => panic!("expected {status} {code}, got an answer: {answer:#?}"),
        Err(ClientError::Api(failure)) => failure,
        Err(e) => panic!("expected {status} {code}, got {e:?}"),
    };
    let problem = failure.problem;
    assert_eq!(failure.status.as_u16(), status, "{problem:#?}");
    assert_eq!(problem.status, status, "{problem:#?}");
    assert!(
        code == problem.code.as_str(),
        "expected {code}: {problem:#?}"
    );
    assert_eq!(
        problem.type_uri,
        format!("urn:mcpreg:problem:{code}"),
        "{problem:#?}"
    );
    assert!(
        !problem.detail.is_empty(),
        "a problem says what went wrong: {problem:#?}"
    );
    problem
}

/// Asserts a refusal as [`expect_problem`] does, one of whose `errors` is at this location, and
/// returns that error's message.
#[track_caller]
pub fn expect_problem_at<T: std::fmt::Debug>(
    result: mcpreg_client::Result<T>,
    status: u16,
    code: ProblemCode,
    location: &str,
) -> String {
    let problem = expect_problem(result, status, code);
    problem
        .errors
        .iter()
        .find(|e| e.location == location)
        .map(|e| e.message.clone())
        .unwrap_or_else(|| panic!("no error at {location:?} in {problem:#?}"))
}

/// The locations of a problem's `errors`, in order.
pub fn locations(problem: &Problem) -> Vec<&str> {
    problem.errors.iter().map(|e| e.location.as_str()).collect()
}

/// The status of a refusal, for the tests that check only that a call was refused so.
#[track_caller]
pub fn refused_status<T: std::fmt::Debug>(result: mcpreg_client::Result<T>) -> u16 {
    match result {
        Ok(answer) => panic!("expected a refusal, got an answer: {answer:#?}"),
        Err(e) => e
            .status()
            .unwrap_or_else(|| panic!("expected the registry's refusal, got {e:?}"))
            .as_u16(),
    }
}
