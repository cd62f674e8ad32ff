"""The workflow rehearsal (issue 18): run what ``tide ci init`` generates as GitHub Actions and GitLab CI
would, against the test suite's fakes (forge, EC2 in moto, Google Drive). See test_rehearsal.py."""
