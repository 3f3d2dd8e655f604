//! Deployment and upgrade of the metadata objects in the `SNOWCONVERT_AI` database.
