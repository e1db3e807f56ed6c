mod cli;
mod conservation;
mod hand;
mod mm1;
